"""The dataset of clips and its cache (paper 001's converter phase over a whole folder).

* :func:`list_videos` lists a UCF-style folder (``<root>/<ClassName>/<videos>``) with labels.
* :func:`create_dataset` extracts every video into one uint8 array with one process per
  core (:mod:`helpers.parallel`), skips bad files (named with their reasons in one summary line) and
  goes on, and caches the array on disk (:mod:`helpers.cache`, memory-mapped on later calls).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np
from tqdm.auto import tqdm

from helpers.cache import cache_key, load_or_build
from helpers.logs import printable
from helpers.parallel import parallel_map
from helpers.video import VideoReadError, frame_extraction

_CACHE_VERSION = 1
_FEATURES = "features.u8"  # the cache entry's array file


def list_videos(dataset_dir: str | os.PathLike, *, class_names: Sequence[str] | None = None
                ) -> tuple[list[str], list[Path], np.ndarray]:
    """Class names, video paths and integer labels of a UCF-style folder.

    Args:
        dataset_dir: ``<dataset_dir>/<ClassName>/<video files>``.
        class_names: Classes to use, in label order; None means every class folder, sorted.

    Returns:
        ``(class_names, video_paths, labels)`` with labels of shape ``(num_videos,)``.
    """
    root = Path(dataset_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: dataset folder does not exist")
    if class_names is None:
        class_names = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        if not class_names:
            raise ValueError(f"{root}: no class folders found (expected <root>/<ClassName>/<videos>)")
    class_names = list(class_names)
    missing = [name for name in class_names if not (root / name).is_dir()]
    if missing:
        raise ValueError(f"{root}: class folder(s) not found: {', '.join(missing)}")
    paths: list[Path] = []
    labels: list[int] = []
    for label, name in enumerate(class_names):
        files = sorted(p for p in (root / name).iterdir() if p.is_file() and not p.name.startswith("."))
        paths.extend(files)
        labels.extend([label] * len(files))
    return class_names, paths, np.asarray(labels, dtype=np.int64)


def _extract_job(args: tuple[str, int, int]) -> tuple[np.ndarray | None, str | None]:
    path, num_frames, image_size = args
    try:
        # one decoding thread whatever DECODER_THREADS says (even "auto" on HD video): the pool
        # already has one process per core
        return frame_extraction(path, num_frames=num_frames, image_size=image_size, decoder_threads=1), None
    except VideoReadError as err:
        return None, err.reason


def init_opencv_worker() -> None:
    """Initializer of a worker pool with one process per core: OpenCV then runs on one thread
    in each (no oversubscription)."""
    cv2.setNumThreads(1)


def _cache_key(class_names: list[str], paths: list[Path], num_frames: int, image_size: int) -> str:
    """Name of the cache entry: a hash of the settings and of every file's path, size and modification time."""
    files = (f"{p}|{(st := p.stat()).st_size}|{st.st_mtime_ns}\n".encode() for p in paths)
    return cache_key(f"clips_{num_frames}x{image_size}", [_CACHE_VERSION, class_names, num_frames, image_size], files)


def create_dataset(
    dataset_dir: str | os.PathLike,
    *,
    class_names: Sequence[str] | None = None,
    num_frames: int = 20,
    image_size: int = 64,
    cache_dir: str | os.PathLike | None = None,
    num_workers: int | None = None,
    progress: bool = True,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Extract every video of a UCF-style folder into one uint8 array (paper 001's
    ``create_dataset``).

    Uses one process per core and shows a progress bar. Unreadable or too-short videos
    are skipped and named, each with its reason, in one summary line (also when the clips
    come from the cache).
    With ``cache_dir`` the array is streamed to disk while extracting (memory stays
    bounded by one clip per worker, not by the dataset) and later calls with the same
    settings and files return it memory-mapped at once. The cache entry is written
    under a temporary name and renamed when complete, so an interrupted run never
    leaves a corrupt cache.

    Args:
        dataset_dir: ``<dataset_dir>/<ClassName>/<videos>``.
        class_names: Classes in label order; None means every class folder, sorted.
        num_frames: Frames per clip.
        image_size: Frame height and width.
        cache_dir: Folder for the on-disk cache; None disables caching.
        num_workers: Processes; None means one per core.
        progress: Show a tqdm progress bar.

    Returns:
        ``(features, labels, video_files_paths)``: features uint8 of shape
        ``(num_videos, num_frames, image_size, image_size, 3)`` (a read-only memmap when
        cached), labels int64 of shape ``(num_videos,)``, and the paths as strings.
    """
    class_names, paths, all_labels = list_videos(dataset_dir, class_names=class_names)
    if cache_dir is None:
        features, labels, kept, skipped = _extract(paths, all_labels, num_frames=num_frames, image_size=image_size,
                                                   num_workers=num_workers, progress=progress, sink=None)
        _report_skipped(skipped, total=len(paths))
        return features, labels, kept
    entry = Path(cache_dir) / _cache_key(class_names, paths, num_frames, image_size)

    def build(sink: BinaryIO, meta: dict) -> None:
        _, labels, kept, skipped = _extract(paths, all_labels, num_frames=num_frames, image_size=image_size,
                                            num_workers=num_workers, progress=progress, sink=sink)
        meta.update(shape=[len(kept), num_frames, image_size, image_size, 3], labels=labels.tolist(),
                    video_files_paths=kept, class_names=class_names, skipped=skipped,
                    clip_bytes=num_frames * image_size * image_size * 3)

    features, meta = load_or_build(entry, filename=_FEATURES, dtype=np.uint8, build=build)  # one builder at a time
    _report_skipped(meta.get("skipped"), total=len(paths))  # built now or read from the cache: named once
    return features, np.asarray(meta["labels"], dtype=np.int64), list(meta["video_files_paths"])


def _report_skipped(skipped: list | int | None, *, total: int) -> None:
    """One line naming every video that could not be decoded, with its reason (a cache entry written
    before the names were kept has only their count)."""
    if not skipped:
        return
    if isinstance(skipped, int):
        tqdm.write(f"WARNING: skipped {skipped} of {total} videos that could not be decoded", file=sys.stderr)
        return
    names = "; ".join(printable(f"{path} ({reason})") for path, reason in skipped)  # one line, whatever the names
    tqdm.write(f"WARNING: skipped {len(skipped)} of {total} videos that could not be decoded: {names}", file=sys.stderr)


def _extract(paths: list[Path], all_labels: np.ndarray, *, num_frames: int, image_size: int,
             num_workers: int | None, progress: bool, sink: BinaryIO | None
             ) -> tuple[np.ndarray | None, np.ndarray, list[str], list[list[str]]]:
    """Extract every video in parallel, skipping bad ones (one summary line names them).

    Returns:
        ``(features, labels, kept_paths, skipped)`` (``skipped``: ``[path, reason]`` pairs); the clips
        are written to the binary file ``sink`` when given (features is then None), else stacked into
        features of shape ``(num_kept, num_frames, image_size, image_size, 3)``.
    """
    clip_shape = (num_frames, image_size, image_size, 3)
    labels: list[int] = []
    kept: list[str] = []
    buffers: list[np.ndarray] = []
    skipped: list[list[str]] = []
    jobs = [(str(p), num_frames, image_size) for p in paths]
    workers = min(num_workers or os.cpu_count() or 1, len(jobs))
    with parallel_map(_extract_job, jobs, operation="create_dataset", num_workers=workers,
                      initializer=init_opencv_worker, chunksize=4) as results:
        bar = tqdm(zip(jobs, all_labels, results, strict=False), total=len(jobs), desc="Extracting frames",
                   unit="video", disable=not progress)
        for (path, _, _), label, (clip, reason) in bar:
            if clip is None:
                skipped.append([path, reason])
                continue
            if sink is not None:
                sink.write(clip.tobytes())
            else:
                buffers.append(clip)
            labels.append(int(label))
            kept.append(path)
    features = None
    if sink is None:
        features = np.stack(buffers) if buffers else np.empty((0, *clip_shape), np.uint8)
    return features, np.asarray(labels, dtype=np.int64), kept, skipped
