"""The stable import path of paper 001's names: ``from helpers.data import create_dataset`` keeps working.

No code lives here. Each name is defined in the module of its concern:

* :mod:`helpers.video` decodes one video: :func:`frame_extraction`, :func:`sample_indices`,
  :class:`VideoReadError`, the decoder set-up (PyAV).
* :mod:`helpers.ucf` is the UCF catalogue: :func:`video_group` (the ``_gNN_cNN`` file-name
  convention), :func:`official_split` (the layout check of a downloaded dataset is the tool
  ``scripts/ucf_data.py validate``).
* :mod:`helpers.dataset` is the dataset of clips and its cache: :func:`list_videos`,
  :func:`create_dataset`.
* :mod:`helpers.splits` holds the splits: :func:`split_by_group`,
  :func:`split_random_clip_leaky`, :func:`leave_one_group_out`.
"""

from helpers.dataset import create_dataset, init_opencv_worker, list_videos
from helpers.splits import leave_one_group_out, split_by_group, split_random_clip_leaky
from helpers.ucf import OfficialSplit, official_split, video_group, video_groups
from helpers.video import (
    DECODER_THREADS,
    LARGE_FRAME_PIXELS,
    VIDEO_EXTENSIONS,
    VideoReadError,
    frame_extraction,
    open_video,
    resolve_decoder_threads,
    sample_indices,
)

__all__ = [
    "DECODER_THREADS", "LARGE_FRAME_PIXELS", "VIDEO_EXTENSIONS", "OfficialSplit", "VideoReadError",
    "create_dataset", "frame_extraction", "init_opencv_worker", "leave_one_group_out", "list_videos",
    "official_split", "open_video", "resolve_decoder_threads", "sample_indices", "split_by_group",
    "split_random_clip_leaky", "video_group", "video_groups",
]
