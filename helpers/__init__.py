"""helpers: the shared code of the video-classification notebooks.

One module per concern: ``config`` (seeds, quick profile, folders), ``synthetic``
(the embedded dataset), ``data`` (frame extraction, dataset, splits, UCF protocols),
``datasets`` (UCF50/UCF101 download and layout), ``models``, ``training``,
``evaluation``, ``experiment`` (one model under one split protocol, notebook plumbing),
``flow`` (optical flow), ``flops`` (GFLOPs), ``robustness`` (perturbations), ``explain``
(Grad-CAM), ``gan`` (DCGAN augmentation), ``comparison`` (notebook 05's table), ``inference``,
``download`` (video by URL), ``serve`` (local HTTP server for tests and demos),
``plots``, ``results``, ``report`` (README tables), ``papers`` (the papers' numbers),
``findings`` (a notebook's conclusions, written from its numbers),
``parallel`` (worker processes that fail loudly instead of hanging), ``bench``. Heavy modules
(TensorFlow) are imported only where they are used.
"""

__version__ = "0.1.0"

# Before TensorFlow's first import (a notebook's first import line is `import helpers`): hide its native log lines.
from helpers.config import quiet_tensorflow_logs  # noqa: E402

quiet_tensorflow_logs()
