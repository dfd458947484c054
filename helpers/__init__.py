"""helpers: the plumbing shared by the video-classification notebooks and the CLI.

The notebooks show each paper's method (model, compile, fit, evaluate) in their own
cells; this package holds what no reader wants to see twice. One module per concern,
in a one-way stack: a module imports only modules listed before it.

0. ``logs``: TensorFlow's native log lines (the import hook ``import helpers`` installs, fd-2 redirection).
1. ``config``: seeds, the quick profile (``HAR_QUICK``), the project's folders.
2. ``atomic``: the one atomic "write then rename" (and clean-up of killed runs' leftovers).
3. ``cache``: the one on-disk array cache (memmap arrays + meta), for clips and optical flow.
4. ``parallel``: spawned worker processes that fail loudly instead of hanging.
5. ``video``: decoding one video (``frame_extraction``, ``sample_indices``, ``VideoReadError``).
6. ``ucf``: the UCF50/UCF101 catalogue: file-name convention, official splits.
7. ``dataset``: the dataset of clips and its cache (``create_dataset``, ``list_videos``).
8. ``splits``: ``split_by_group`` and the split protocols of the experiments.
9. ``data``: no logic, the stable import path of paper 001's names (``from helpers.data import ...``).
10. ``flow`` (optical flow), ``annotate`` (labelled frames, the annotated video, joined test videos).
11. ``runtime``: the model contract (``ModelSpec``) and an exported file's LiteRT runner, no TensorFlow.
    ``cards``: the model card beside every saved model and in an export's sidecar, no TensorFlow.
12. ``keras_compat``: every use of Keras' and the TFLite converter's private API (three attributes, the per-tensor
    switch, the tf.distribute workarounds for a model built under a strategy).
13. ``layers``: custom Keras layers under names that say what they are; ``flops``: a model's FLOPs per clip.
14. ``models``: ``clip_input``, save/load with class names.
15. ``pipeline`` (the tf.data pipeline ``make_dataset`` and ``compile_model``), then ``training``,
    ``evaluation``, ``predictor`` (a Keras model's compiled passes for inference, their latency);
    ``paper_models``: the paper models' builders (and transfer's pretraining), generated from the notebooks'
    ``#@save`` definitions by ``make export`` (never edited by hand); ``robustness``: accuracy on perturbed clips.
16. ``inference`` (classify a video: sliding windows, smoothing; TensorFlow only for a ``.keras`` model),
    ``deploy`` (export), ``download`` (a video by URL).
17. ``results`` (tables in ``results/``), ``stats`` (intervals, tests, Holm: computed here, the
    comparisons table written through ``results``), ``papers`` (the papers' numbers), ``synthetic``
    (the embedded dataset), ``experiment`` (one model under one split protocol), ``plots``.

The application is not the package: the command line, the live sources, the page and ``train`` on your own folder
are ``har_app`` (on top of this package); ``python -m helpers classify ...`` forwards to it (``__main__``, the
one module here that imports ``har_app``). Tools are not the package either: the benchmark is
``benchmarks/bench.py`` (``make bench``), the README generator ``scripts/readme.py`` (``make readme``), the UCF
download/extract command line ``scripts/ucf_data.py`` (``make data``), test helpers live in ``tests/``. Heavy modules
(TensorFlow) are imported only where they are used.
"""

__version__ = "0.1.0"

# Before TensorFlow's first import (a notebook's first import line is `import helpers`): hide its native log lines.
from helpers.logs import quiet_tensorflow_logs  # noqa: E402

quiet_tensorflow_logs()
