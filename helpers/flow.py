"""Dense optical flow (OpenCV Farnebäck) of uint8 clips, cached on disk like the clips.

The motion stream of the two-stream model (notebook 05's ``build_two_stream``;
paper 004, Figure 4) sees optical flow instead of frames:

* :func:`farneback_flow` computes the flow between every pair of consecutive frames of
  one clip.
* :func:`create_flow_dataset` does it for every clip of a dataset in parallel, with a
  progress bar, and caches the result in ``cache_dir`` keyed by the clips' *content*
  and the Farnebäck parameters. The entry is written under a temporary name and renamed
  when complete, so an interrupted run never leaves a cache that is later reused.

Units: ``flow[t, y, x] = (dx, dy)`` in **pixels per frame step** of the clip (the step
between two *sampled* frames, not between two frames of the source video), x to the
right and y **down** (image coordinates), at the clip's resolution: frame ``t`` at
``(x, y)`` moved to about ``(x + dx, y + dy)`` in frame ``t + 1``.

Storage: flow is stored and returned as **float16** by default. It halves disk and
memory (640 clips of 20 x 64 x 64 take 210 MB instead of 420 MB) and costs nothing that
matters: float16 resolves 0.001 px below 2 px/frame and 0.008 px below 16 px/frame,
far finer than Farnebäck's own error (about 0.1 px). The models cast it to float32 in
their first layer.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np
from tqdm.auto import tqdm

from helpers.cache import cache_key, load_or_build
from helpers.dataset import init_opencv_worker
from helpers.parallel import parallel_map

_CACHE_VERSION = 1
_FLOW = "flow.bin"  # the cache entry's array file
FLOW_DTYPES = ("float16", "float32")


@dataclass(frozen=True)
class FarnebackParams:
    """Arguments of ``cv2.calcOpticalFlowFarneback`` (OpenCV's documented example values).

    Attributes:
        pyr_scale: Scale between pyramid levels (0.5: each level is half the previous).
        levels: Pyramid levels, including the full-size image (3 on 64 px: 64, 32, 16).
        winsize: Averaging window; larger is smoother and catches faster motion.
        iterations: Iterations per pyramid level.
        poly_n: Pixel neighbourhood of the polynomial expansion (5 or 7).
        poly_sigma: Gaussian sigma of the polynomial expansion (1.1 for poly_n=5, 1.5 for 7).
    """

    pyr_scale: float = 0.5
    levels: int = 3
    winsize: int = 15
    iterations: int = 3
    poly_n: int = 5
    poly_sigma: float = 1.2


def farneback_flow(clip: np.ndarray, *, params: FarnebackParams | None = None) -> np.ndarray:
    """Dense optical flow between consecutive frames of one clip (Farnebäck, on grayscale).

    Args:
        clip: uint8 RGB frames ``(num_frames, height, width, 3)``.
        params: Farnebäck settings; None means :class:`FarnebackParams` defaults.

    Returns:
        float32 ``(num_frames - 1, height, width, 2)``: ``[..., 0]`` is the x (rightward)
        and ``[..., 1]`` the y (downward) displacement in pixels per frame step, from
        frame ``t`` to frame ``t + 1``.

    Raises:
        ValueError: Not a uint8 ``(num_frames >= 2, height, width, 3)`` array.
    """
    clip = np.asarray(clip)
    if clip.dtype != np.uint8 or clip.ndim != 4 or clip.shape[-1] != 3 or clip.shape[0] < 2:
        raise ValueError(f"expected a uint8 clip (num_frames >= 2, height, width, 3), got {clip.dtype} {clip.shape}")
    p = params or FarnebackParams()
    gray = [cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) for frame in clip]
    flow = np.empty((len(clip) - 1, *clip.shape[1:3], 2), np.float32)
    for t in range(len(clip) - 1):
        flow[t] = cv2.calcOpticalFlowFarneback(gray[t], gray[t + 1], None, p.pyr_scale, p.levels, p.winsize,
                                               p.iterations, p.poly_n, p.poly_sigma, 0)
    return flow


def _flow_job(args: tuple[np.ndarray, dict]) -> np.ndarray:
    clip, params = args
    return farneback_flow(clip, params=FarnebackParams(**params))


def flow_cache_key(features: np.ndarray, *, params: FarnebackParams, dtype: str) -> str:
    """Name of the cache entry: a hash of the clips' bytes and shape, the parameters and the storage dtype."""
    frames, height, width = features.shape[1:4]
    settings = [_CACHE_VERSION, list(features.shape), str(features.dtype), asdict(params), dtype]
    # clip by clip: a memmap is read once, never copied whole
    clips = (np.ascontiguousarray(clip).data for clip in features)
    return cache_key(f"flow_{frames - 1}x{height}x{width}", settings, clips)


def create_flow_dataset(
    features: np.ndarray,
    *,
    cache_dir: str | os.PathLike | None = None,
    params: FarnebackParams | None = None,
    dtype: str = "float16",
    num_workers: int | None = None,
    progress: bool = True,
) -> np.ndarray:
    """Farnebäck flow of every clip (the motion stream's input), in parallel and cached.

    Memory stays bounded: with ``cache_dir`` the flow is streamed to disk while it is
    computed and a few clips per worker are in flight at a time. A later call on the same
    clips (same bytes, same shape) with the same parameters returns the cached array at
    once, memory-mapped. The cache entry is written under a temporary name and renamed
    when complete; an entry without its metadata or with a short data file is recomputed,
    never reused.

    Args:
        features: uint8 clips ``(num_clips, num_frames, height, width, 3)``, e.g. from
            :func:`helpers.dataset.create_dataset` (a memmap is fine).
        cache_dir: Folder for the on-disk cache; None disables caching.
        params: Farnebäck settings; None means :class:`FarnebackParams` defaults.
        dtype: ``"float16"`` (default: half the size, precision far below the flow's error)
            or ``"float32"``.
        num_workers: Processes; None means one per core.
        progress: Show a tqdm progress bar.

    Returns:
        ``(num_clips, num_frames - 1, height, width, 2)`` of ``dtype``, in the order of
        ``features`` (a read-only memmap when cached). Units as in :func:`farneback_flow`.
    """
    if dtype not in FLOW_DTYPES:
        raise ValueError(f"dtype must be one of {FLOW_DTYPES}, got {dtype!r}")
    if not isinstance(features, np.ndarray):
        features = np.asarray(features)
    if features.dtype != np.uint8 or features.ndim != 5 or features.shape[-1] != 3 or features.shape[1] < 2:
        raise ValueError("expected uint8 clips (num_clips, num_frames >= 2, height, width, 3), "
                         f"got {features.dtype} {features.shape}")
    params = params or FarnebackParams()
    n, frames, height, width = features.shape[:4]
    shape = (n, frames - 1, height, width, 2)
    if cache_dir is None:
        out = np.empty(shape, dtype)
        for i, flow in enumerate(_flows(features, params=params, num_workers=num_workers, progress=progress)):
            out[i] = flow
        return out
    entry = Path(cache_dir) / flow_cache_key(features, params=params, dtype=dtype)

    def build(sink: BinaryIO, meta: dict) -> None:
        for flow in _flows(features, params=params, num_workers=num_workers, progress=progress):
            sink.write(flow.astype(dtype, copy=False).tobytes())
        meta.update(shape=list(shape), dtype=dtype, params=asdict(params), version=_CACHE_VERSION)

    return load_or_build(entry, filename=_FLOW, dtype=dtype, build=build)[0]  # one builder at a time


def _flows(features: np.ndarray, *, params: FarnebackParams, num_workers: int | None, progress: bool
           ) -> Iterator[np.ndarray]:
    """Farnebäck flow of every clip, in order, computed in worker processes; float32
    ``(num_frames - 1, height, width, 2)`` per clip."""
    n = len(features)
    workers = min(num_workers or os.cpu_count() or 1, max(n, 1))
    param_dict = asdict(params)
    # clips are read from ``features`` lazily, a few per worker at a time: ``Pool.imap`` would
    # pickle the whole dataset into its queue up front; this keeps memory bounded
    jobs = ((clip, param_dict) for clip in features)
    with tqdm(total=n, desc="Optical flow", unit="clip", disable=not progress) as bar, \
            parallel_map(_flow_job, jobs, operation="create_flow_dataset", num_workers=workers,
                         initializer=init_opencv_worker, in_flight=4 * workers) as results:
        for flow in results:
            yield flow
            bar.update(1)


def flow_to_rgb(flow: np.ndarray, *, max_magnitude: float | None = None) -> np.ndarray:
    """Colour a flow field for display (notebook 05's figure): hue = direction, brightness = speed (HSV coding).

    Args:
        flow: ``(..., height, width, 2)`` as :func:`farneback_flow` returns it.
        max_magnitude: Speed (px/frame) shown at full brightness; None uses the largest in ``flow``.

    Returns:
        uint8 RGB ``(..., height, width, 3)``.
    """
    flow = np.asarray(flow, dtype=np.float32)
    dx, dy = flow[..., 0], flow[..., 1]
    magnitude = np.hypot(dx, dy)
    angle = np.mod(np.arctan2(dy, dx), 2 * np.pi)
    top = float(magnitude.max()) if max_magnitude is None else float(max_magnitude)
    hsv = np.empty((*flow.shape[:-1], 3), np.uint8)
    hsv[..., 0] = np.round(angle * (179.0 / (2 * np.pi))).astype(np.uint8)  # OpenCV hue is 0..179
    hsv[..., 1] = 255
    hsv[..., 2] = np.clip(magnitude / top * 255.0, 0, 255).astype(np.uint8) if top > 0 else 0
    flat = hsv.reshape(-1, 1, 3)
    return cv2.cvtColor(flat, cv2.COLOR_HSV2RGB).reshape(hsv.shape)
