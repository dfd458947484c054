"""Benchmarks of the pipeline: tools, not part of the ``helpers`` package (``make bench``)."""
