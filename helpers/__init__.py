"""helpers: the shared code of the video-classification notebooks.

One module per concern: ``config`` (seeds, quick profile, folders), ``synthetic``
(the embedded dataset), ``data`` (frame extraction, dataset, splits), ``models``,
``training``, ``evaluation``, ``inference``, ``download``, ``plots``, ``results``.
Heavy modules (TensorFlow) are imported only where they are used.
"""

__version__ = "0.1.0"
