"""Frame extraction, the dataset of clips, and train/test splits (paper 001's converter
and normalizer phases, with the original code's defects fixed).

* Frames are spread evenly over the *whole* clip (:func:`sample_indices`) and read
  sequentially: one decode pass, ``grab()`` on every frame and ``retrieve()`` only on
  the wanted ones; never a ``CAP_PROP_POS_FRAMES`` seek per frame. FFmpeg decodes on
  one thread up to :data:`LARGE_FRAME_PIXELS` per frame (its frame threading costs more
  than it saves on small frames) and on its default threads above (HD video), the
  ``"auto"`` set-up of :data:`DECODER_THREADS`.
* Frames are RGB uint8. Scaling to [0, 1] happens inside the models (a Rescaling
  layer), never in a float64 copy of the whole dataset.
* Bad files raise :class:`VideoReadError` naming the file and the reason;
  :func:`create_dataset` skips them with one warning line each and goes on.
* Splits: :func:`split_by_group` (honest, no UCF group on both sides) and
  :func:`split_random_clip_leaky` (the paper's split, which leaks groups).
* Protocols for the real datasets: :func:`validate_layout`, :func:`leave_one_group_out`
  (UCF50) and :func:`official_split` (UCF101's three official splits).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm.auto import tqdm

from helpers.parallel import parallel_map
from helpers.tempdirs import private_temp_dir, remove_stale_temp_dirs

VIDEO_EXTENSIONS = (".avi", ".mp4", ".mkv", ".mov", ".webm", ".mpg", ".mpeg", ".m4v")
_GROUP_RE = re.compile(r"_g(\d+)_c(\d+)", re.IGNORECASE)
# A container's frame count may be an estimate (duration x fps): tolerate this much shortfall
# before calling a file truncated.
_TRUNCATION_TOLERANCE = 0.05
_CACHE_VERSION = 1
#: Frame area (width x height, pixels) above which the ``"auto"`` decoder set-up of
#: :func:`frame_extraction` uses FFmpeg's default threads instead of one (640x480).
LARGE_FRAME_PIXELS = 640 * 480
#: FFmpeg decoding threads of :func:`frame_extraction` (``CAP_PROP_N_THREADS``):
#: ``"auto"`` means one thread for frames of at most :data:`LARGE_FRAME_PIXELS` and
#: OpenCV's default (one per CPU, frame threading) above (:func:`resolve_decoder_threads`).
#: Frame threading hands every frame to a worker thread and back, which costs more than
#: decoding a small frame, but pays off on HD frames. Measured in ``make bench`` on 2
#: cores (``results/bench.json``, decode floor per file, 1 thread vs default threads):
#: the embedded 160x120 .avi clips 5.6 vs 10.8 ms (mean of 32), the two carphone 176x144
#: H.264 files 119 vs 137 ms and 11 vs 23 ms, bikes 640x272 H.264 283 vs 292 ms (and 25%
#: less CPU on one thread) -> one thread; bigbuckbunny 1280x720 H.264 538 vs 336 ms ->
#: default threads. UCF-sized 320x240 clips get one thread. The frames are the same
#: either way; "auto" costs one extra open of the file for HD video only.
#: :func:`create_dataset`'s workers (one process per core) always use one thread.
DECODER_THREADS: int | str | None = "auto"


def resolve_decoder_threads(width: int, height: int, decoder_threads: int | str | None = DECODER_THREADS
                            ) -> int | None:
    """The FFmpeg decoding threads for a video of ``width`` x ``height`` pixels.

    Args:
        width: Frame width in pixels (0 if unknown).
        height: Frame height in pixels (0 if unknown).
        decoder_threads: ``"auto"``, a thread count, or None (OpenCV's default).

    Returns:
        ``decoder_threads`` itself for an int or None; for ``"auto"``, None (OpenCV's
        default threads) when ``width * height > LARGE_FRAME_PIXELS``, else 1.

    Raises:
        ValueError: ``decoder_threads`` is a string other than ``"auto"``.
    """
    if isinstance(decoder_threads, str):
        if decoder_threads != "auto":
            raise ValueError(f"decoder_threads must be an int, None or 'auto', got {decoder_threads!r}")
        return None if int(width) * int(height) > LARGE_FRAME_PIXELS else 1
    return decoder_threads


class VideoReadError(ValueError):
    """A video that cannot be used: missing, empty, not a video, truncated or too short.

    The message always starts with the file's path, then the reason.
    """

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def sample_indices(total_frames: int, num_frames: int) -> np.ndarray:
    """Indices of ``num_frames`` frames spread evenly over a clip of ``total_frames``.

    The clip is cut into ``num_frames`` equal segments and the middle frame of each is
    taken, so the samples cover the whole clip (the original code's
    ``skip = total // num_frames`` stopped short of the end).

    Args:
        total_frames: Number of decodable frames in the clip.
        num_frames: Number of frames wanted.

    Returns:
        Strictly increasing int64 array of shape ``(num_frames,)``.

    Raises:
        ValueError: If the clip has fewer than ``num_frames`` frames.
    """
    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    if total_frames < num_frames:
        raise ValueError(f"clip has {total_frames} frames, fewer than num_frames={num_frames}")
    return ((np.arange(num_frames) + 0.5) * total_frames / num_frames).astype(np.int64)


def open_video(path: Path, *, threads: int | None = None) -> cv2.VideoCapture:
    """Open a video with FFmpeg, or raise :class:`VideoReadError` naming the file and the reason.

    Args:
        path: The video file.
        threads: FFmpeg decoding threads (``CAP_PROP_N_THREADS``); None keeps OpenCV's
            default (one per CPU).
    """
    if not path.exists():
        raise VideoReadError(path, "file does not exist")
    if path.is_dir():
        raise VideoReadError(path, "is a directory, not a video file")
    if path.stat().st_size == 0:
        raise VideoReadError(path, "file is empty (0 bytes)")
    params = [] if threads is None else [cv2.CAP_PROP_N_THREADS, int(threads)]
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, params)
    if not cap.isOpened():
        cap.release()
        raise VideoReadError(path, "not a readable video (OpenCV/FFmpeg could not open it)")
    return cap


def frame_size(cap: cv2.VideoCapture) -> tuple[int, int]:
    """``(width, height)`` of an open video's frames, from its header (0 when unknown)."""
    return int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))


def resize_to_rgb(frame_bgr: np.ndarray, image_size: int) -> np.ndarray:
    """The per-frame preprocessing of training and inference: area-resize, then BGR -> RGB (uint8)."""
    # resize first: converting 64x64 is cheaper than converting the full frame
    small = cv2.resize(frame_bgr, (image_size, image_size), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_BGR2RGB)


def _read_pass(cap: cv2.VideoCapture, wanted: np.ndarray, image_size: int) -> tuple[int, list[np.ndarray]]:
    """Decode every frame once; convert only the ``wanted`` ones. Returns (frames decoded, frames)."""
    frames: list[np.ndarray] = []
    todo = [int(i) for i in wanted[::-1]]  # pop() from the end: the next wanted index
    next_index = todo.pop() if todo else -1
    frame = None  # retrieve() writes into the previous frame's buffer (no new full-size array)
    index = 0
    while cap.grab():
        if index == next_index:
            ok, frame = cap.retrieve(frame)
            if not ok or frame is None:
                break
            frames.append(resize_to_rgb(frame, image_size))
            next_index = todo.pop() if todo else -1
        index += 1
    return index, frames


def frame_extraction(video_path: str | os.PathLike, *, num_frames: int = 20, image_size: int = 64,
                     decoder_threads: int | str | None = DECODER_THREADS) -> np.ndarray:
    """Read ``num_frames`` RGB frames spread evenly over a whole video.

    One sequential decode pass reads the whole file (so the true frame count is known
    even when the header lies); a second pass happens only when the header's count was
    wrong. The frames at :func:`sample_indices` are resized to ``image_size`` (area
    interpolation) and converted BGR -> RGB.

    Args:
        video_path: Any file FFmpeg can decode.
        num_frames: Frames per clip.
        image_size: Output height and width in pixels.
        decoder_threads: FFmpeg decoding threads; None means OpenCV's default (one per
            CPU); ``"auto"`` (the default, :data:`DECODER_THREADS`) opens the file on one
            thread and, if its frames are larger than :data:`LARGE_FRAME_PIXELS`,
            reopens it on the default threads (:func:`resolve_decoder_threads`); a
            second pass uses the same set-up. The frames are the same whatever the
            set-up.

    Returns:
        uint8 array of shape ``(num_frames, image_size, image_size, 3)``, RGB.

    Raises:
        VideoReadError: Missing, empty, non-video, truncated or too-short file.
    """
    path = Path(video_path)
    threads = resolve_decoder_threads(0, 0, decoder_threads)  # raises on a bad value; "auto" -> 1 to start
    cap = open_video(path, threads=threads)
    if decoder_threads == "auto":
        threads = resolve_decoder_threads(*frame_size(cap), decoder_threads)
        if threads != 1:  # large frames: reopen on FFmpeg's default threads
            cap.release()
            cap = open_video(path, threads=threads)
    try:
        header_count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        if header_count >= num_frames:
            decoded, frames = _read_pass(cap, sample_indices(header_count, num_frames), image_size)
        else:  # header missing/too small: count first (frames=[] forces the second pass)
            decoded, frames = _read_pass(cap, np.empty(0, np.int64), image_size)
    finally:
        cap.release()
    if decoded == 0:
        raise VideoReadError(path, "no decodable frames (corrupt or not a video)")
    if header_count > 0 and decoded < header_count * (1 - _TRUNCATION_TOLERANCE) and decoded < header_count - 2:
        raise VideoReadError(path, f"truncated: header says {header_count} frames, only {decoded} decode")
    if decoded < num_frames:
        raise VideoReadError(path, f"too short: {decoded} frames, need at least num_frames={num_frames}")
    if decoded != header_count or len(frames) != num_frames:
        # the header was off: sample again on the true count, with the same decoder set-up
        cap = open_video(path, threads=threads)
        try:
            _, frames = _read_pass(cap, sample_indices(decoded, num_frames), image_size)
        finally:
            cap.release()
        if len(frames) != num_frames:
            raise VideoReadError(path, f"decoding is not repeatable: got {len(frames)} of {num_frames} frames")
    return np.stack(frames)


def video_group(path: str | os.PathLike) -> int:
    """The UCF group number of a clip: ``v_TaiChi_g07_c03.avi`` -> 7.

    Raises:
        ValueError: If the file name does not follow ``..._gNN_cNN...``.
    """
    match = _GROUP_RE.search(Path(path).name)
    if match is None:
        raise ValueError(f"{path}: file name has no UCF group/clip tag like '_g07_c03'")
    return int(match.group(1))


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
    h = hashlib.sha256(json.dumps([_CACHE_VERSION, class_names, num_frames, image_size]).encode())
    for p in paths:
        st = p.stat()
        h.update(f"{p}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return f"clips_{num_frames}x{image_size}_{h.hexdigest()[:16]}"


def publish_cache_entry(tmp_entry: Path, entry: Path, *, meta: dict) -> None:
    """Finish a cache entry written under ``tmp_entry``: write its ``meta.json`` last, then rename it
    to ``entry`` in one step, so a reader sees the whole entry or none (shared by the flow cache)."""
    (tmp_entry / "meta.json").write_text(json.dumps(meta))
    shutil.rmtree(entry, ignore_errors=True)
    os.replace(tmp_entry, entry)


def _load_cache(entry: Path) -> tuple[np.ndarray, np.ndarray, list[str]] | None:
    meta_path = entry / "meta.json"
    if not meta_path.exists():
        return None
    meta = json.loads(meta_path.read_text())
    shape = tuple(meta["shape"])
    if shape[0] == 0:
        features = np.empty(shape, np.uint8)
    else:
        features = np.memmap(entry / "features.u8", dtype=np.uint8, mode="r", shape=shape)
    return features, np.asarray(meta["labels"], dtype=np.int64), list(meta["video_files_paths"])


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
    are skipped with one warning line each (file and reason) and a summary count.
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
    entry = None
    if cache_dir is not None:
        entry = Path(cache_dir) / _cache_key(class_names, paths, num_frames, image_size)
        cached = _load_cache(entry)
        if cached is not None:
            return cached

    clip_shape = (num_frames, image_size, image_size, 3)
    clip_bytes = int(np.prod(clip_shape))
    labels: list[int] = []
    kept: list[str] = []
    skipped = 0
    tmp_entry = None
    sink = None
    buffers: list[np.ndarray] = []
    if entry is not None:
        tmp_entry = private_temp_dir(entry, whole_folder=True)  # also removes what killed runs left
        sink = open(tmp_entry / "features.u8", "wb")
    jobs = [(str(p), num_frames, image_size) for p in paths]
    workers = min(num_workers or os.cpu_count() or 1, len(jobs))
    try:
        with parallel_map(_extract_job, jobs, operation="create_dataset", num_workers=workers,
                          initializer=init_opencv_worker, chunksize=4) as results:
            bar = tqdm(zip(jobs, all_labels, results, strict=False), total=len(jobs), desc="Extracting frames",
                       unit="video", disable=not progress)
            for (path, _, _), label, (clip, reason) in bar:
                if clip is None:
                    skipped += 1
                    tqdm.write(f"WARNING: skipped {path}: {reason}", file=sys.stderr)
                    continue
                if sink is not None:
                    sink.write(clip.tobytes())
                else:
                    buffers.append(clip)
                labels.append(int(label))
                kept.append(path)
        if skipped:
            tqdm.write(f"WARNING: skipped {skipped} of {len(jobs)} videos; kept {len(kept)}", file=sys.stderr)
        if sink is not None:
            sink.close()
            sink = None
            meta = {"shape": [len(kept), *clip_shape], "labels": labels, "video_files_paths": kept,
                    "class_names": class_names, "skipped": skipped, "clip_bytes": clip_bytes}
            publish_cache_entry(tmp_entry, entry, meta=meta)
            tmp_entry = None
            return _load_cache(entry)
    finally:
        if sink is not None:
            sink.close()
        if tmp_entry is not None:
            shutil.rmtree(tmp_entry, ignore_errors=True)
        if entry is not None:
            remove_stale_temp_dirs(entry, whole_folder=True)  # e.g. of workers terminated while they started
    features = np.stack(buffers) if buffers else np.empty((0, *clip_shape), np.uint8)
    return features, np.asarray(labels, dtype=np.int64), kept


def split_by_group(video_files_paths: Sequence[str | os.PathLike], *, test_size: float = 0.25, seed: int = 27
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Train/test indices with no UCF group on both sides (the honest protocol).

    Clips of one group are cut from the same long video; whole groups (by group
    number, across all classes, as UCF101's official splits do) go to the test side.

    Args:
        video_files_paths: Paths whose names carry ``_gNN_cNN``.
        test_size: Fraction of the groups held out (at least one group).
        seed: Seed of the group shuffle.

    Returns:
        ``(train_idx, test_idx)``, sorted int64 arrays.
    """
    groups = np.array([video_group(p) for p in video_files_paths])
    unique = np.unique(groups)
    if len(unique) < 2:
        raise ValueError(f"need at least 2 groups to split by group, found {len(unique)}")
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1), got {test_size}")
    n_test = min(max(1, round(test_size * len(unique))), len(unique) - 1)
    test_groups = np.random.default_rng(seed).permutation(unique)[:n_test]
    is_test = np.isin(groups, test_groups)
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def split_random_clip_leaky(num_clips: int | Sequence, *, test_size: float = 0.25, seed: int = 27
                            ) -> tuple[np.ndarray, np.ndarray]:
    """The paper's clip-level random split. **Leaks**: clips of one group (same long
    video, same actor and background) land on both sides, inflating test accuracy.

    Kept only to reproduce the paper's protocol and measure the inflation.

    Args:
        num_clips: Number of clips, or the sequence of clip paths.
        test_size: Fraction of clips held out.
        seed: Seed of the shuffle.

    Returns:
        ``(train_idx, test_idx)``, sorted int64 arrays.
    """
    n = num_clips if isinstance(num_clips, int) else len(num_clips)
    order = np.random.default_rng(seed).permutation(n)
    n_test = int(np.ceil(test_size * n))
    return np.sort(order[n_test:]), np.sort(order[:n_test])


# --- Protocols for the real datasets ---
# UCF50: leave-one-group-out over its 25 groups (or the faster fixed split_by_group); UCF101: its three
# official splits. Both datasets are described in helpers.datasets; see docs/datasets.md.

_UCF_FILE_RE = re.compile(r"^v_(?P<tag>[A-Za-z0-9]+)_g(?P<group>\d+)_c(?P<clip>\d+)(?P<ext>\.[A-Za-z0-9]+)$")
_MAX_PROBLEMS = 60  # lines in a validate_layout message; the rest are counted
_MAX_NAMES = 10  # file names quoted in one summary line


def _names(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_MAX_NAMES])
    return shown + (f" ... and {len(items) - _MAX_NAMES} more" if len(items) > _MAX_NAMES else "")


def _find_splits_dir(dataset_dir: Path, splits_dir: str | os.PathLike | None) -> Path:
    """Where the UCF101 split lists are: ``splits_dir``, else ``<dataset_dir>/ucfTrainTestlist``,
    else ``<dataset_dir>/../ucfTrainTestlist`` (where ``python -m helpers.datasets`` puts them)."""
    from helpers.datasets import SPLITS_FOLDER

    if splits_dir is not None:
        return Path(splits_dir)
    inside = dataset_dir / SPLITS_FOLDER
    return inside if inside.is_dir() else dataset_dir.parent / SPLITS_FOLDER


def _read_lines(path: Path) -> list[str]:
    # the official lists have Windows line ends; tolerate blank lines
    return [line.strip() for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]


def _read_class_ind(path: Path) -> list[str]:
    """Class names of ``classInd.txt`` (``"<n> <Class>"`` lines, n = 1, 2, ...), in label order."""
    names = []
    for number, line in enumerate(_read_lines(path), start=1):
        parts = line.split()
        if len(parts) != 2 or parts[0] != str(number):
            raise ValueError(f"{path}: line {number} is {line!r}, expected '{number} <ClassName>'")
        names.append(parts[1])
    return names


def _read_split_list(path: Path, class_names: Sequence[str]) -> list[str]:
    """Relative paths ``<Class>/<file>`` of a ``trainlist0N.txt`` / ``testlist0N.txt``.

    A train list's label column (1-based, in classInd order) is checked against the folder.
    """
    rels = []
    for number, line in enumerate(_read_lines(path), start=1):
        parts = line.replace("\\", "/").split()
        if len(parts) not in (1, 2) or parts[0].count("/") != 1:
            raise ValueError(f"{path}: line {number} is {line!r}, expected '<Class>/<file> [label]'")
        folder = parts[0].split("/")[0]
        if len(parts) == 2 and (folder not in class_names or parts[1] != str(class_names.index(folder) + 1)):
            raise ValueError(f"{path}: line {number}: label {parts[1]} does not match class {folder!r} in classInd.txt")
        rels.append(parts[0])
    return rels


def validate_layout(dataset_dir: str | os.PathLike, *, layout: str, class_names: Sequence[str] | None = None,
                    splits_dir: str | os.PathLike | None = None) -> dict[str, int]:
    """Check a folder against the UCF50 or UCF101 layout and name everything that is wrong.

    Checked: every expected class folder exists and holds videos named
    ``v_<Class>_gNN_cNN.<video extension>`` with the class of its folder (the archives'
    own spellings such as ``v_Billards_*`` and ``v_HandStandPushups_*`` are accepted) and
    a group in ``1..num_groups``; no unexpected folders or files (hidden files are
    ignored); for UCF101, the split lists (``classInd.txt``, ``trainlist0N.txt``,
    ``testlist0N.txt``) exist, list the 101 classes in order, and agree with the videos
    on disk. Videos are not decoded (:func:`create_dataset` reports unreadable ones).

    Args:
        dataset_dir: ``<dataset_dir>/<ClassName>/<videos>``.
        layout: ``"ucf50"`` or ``"ucf101"``.
        class_names: Check only these classes (e.g. the paper's four); the other folders
            of the dataset may then be absent. None means every class.
        splits_dir: Folder of the UCF101 split lists; None looks in
            ``<dataset_dir>/ucfTrainTestlist`` then ``<dataset_dir>/../ucfTrainTestlist``.

    Returns:
        Number of videos per checked class, in class order.

    Raises:
        ValueError: One line per problem (folder or file named relative to
            ``dataset_dir``; long lists are cut with a count).
    """
    from helpers.datasets import SPLITS_FOLDER, dataset_info, split_file_names

    info = dataset_info(layout)
    root = Path(dataset_dir)
    if not root.is_dir():
        raise ValueError(f"{root}: dataset folder does not exist")
    expected = list(info.class_names) if class_names is None else list(class_names)
    unknown = [name for name in expected if name not in info.class_names]
    if unknown:
        raise ValueError(f"not {info.name} classes: {', '.join(unknown)}")
    owner_of_tag = {}  # casefolded class tag of a file name -> class
    for name in info.class_names:
        for tag in (name, *info.file_tags.get(name, ())):
            owner_of_tag[tag.casefold()] = name
    folder_spellings = {name.casefold(): name for name in info.class_names}
    problems: list[str] = []

    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        if not entry.is_dir():
            problems.append(f"{entry.name}: unexpected file at the top level (videos go in <Class>/)")
        elif entry.name not in info.class_names and not (info.splits and entry.name == SPLITS_FOLDER):
            right = folder_spellings.get(entry.name.casefold())
            problems.append(f"{entry.name}/: unexpected folder, not a {info.name} class"
                            + (f" (the class is spelled {right})" if right else ""))
    missing = [name for name in expected if not (root / name).is_dir()]
    if missing:
        problems.append(f"missing class folders ({len(missing)} of {len(expected)}): {', '.join(missing)}")

    counts: dict[str, int] = {}
    present: set[str] = set()  # every file on disk under a checked class, as "<Class>/<file>"
    valid: set[str] = set()
    for name in expected:
        if name in missing:
            continue
        counts[name] = 0
        for path in sorted((root / name).iterdir()):
            if path.name.startswith("."):
                continue
            rel = f"{name}/{path.name}"
            if path.is_dir():
                problems.append(f"{rel}/: unexpected folder inside a class folder")
                continue
            present.add(rel)
            match = _UCF_FILE_RE.match(path.name)
            if match is None or match["ext"].lower() not in VIDEO_EXTENSIONS:
                problems.append(f"{rel}: name does not match v_<Class>_gNN_cNN.<video extension>")
            elif (owner := owner_of_tag.get(match["tag"].casefold())) is None:
                problems.append(f"{rel}: {match['tag']!r} in the file name is not a {info.name} class")
            elif owner != name:
                problems.append(f"{rel}: a {owner} video in the {name}/ folder")
            elif not 1 <= int(match["group"]) <= info.num_groups:
                problems.append(f"{rel}: group {int(match['group'])} is outside 1..{info.num_groups}")
            elif path.stat().st_size == 0:
                problems.append(f"{rel}: empty file (0 bytes)")
            else:
                valid.add(rel)
                counts[name] += 1
        if counts[name] == 0:
            problems.append(f"{name}/: no videos")

    if info.splits:
        sdir = _find_splits_dir(root, splits_dir)
        needed = ["classInd.txt", *(f for split in info.splits for f in split_file_names(split))]
        absent = [f for f in needed if not (sdir / f).is_file()]
        if absent:
            problems.append(f"{sdir}: missing split files: {', '.join(absent)} (from {info.splits_archive.url})")
        else:
            try:
                class_ind = _read_class_ind(sdir / "classInd.txt")
                if class_ind != list(info.class_names):
                    problems.append(f"{sdir / 'classInd.txt'}: does not list the {info.num_classes} "
                                    f"{info.name} classes in the official order")
                wanted = set(expected)
                for split in info.splits:
                    lists = split_file_names(split)
                    listed = {rel for f in lists for rel in _read_split_list(sdir / f, class_ind)
                              if rel.split("/")[0] in wanted}
                    if not_on_disk := sorted(listed - present):
                        problems.append(f"{' / '.join(lists)}: {len(not_on_disk)} listed videos are not on disk: "
                                        f"{_names(not_on_disk)}")
                    if not_listed := sorted(valid - listed):
                        problems.append(f"{len(not_listed)} videos are in neither {' nor '.join(lists)}: "
                                        f"{_names(not_listed)}")
            except ValueError as err:
                problems.append(str(err))

    if problems:
        lines = [f"  - {p}" for p in problems[:_MAX_PROBLEMS]]
        if len(problems) > _MAX_PROBLEMS:
            lines.append(f"  ... and {len(problems) - _MAX_PROBLEMS} more problems")
        header = f"{root} does not match the {info.name} layout ({len(problems)} problems):"
        raise ValueError("\n".join([header, *lines]))
    return counts


def leave_one_group_out(video_files_paths: Sequence[str | os.PathLike]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Leave-one-group-out folds, UCF50's protocol (25 folds on the full dataset).

    Fold k tests on every clip of the k-th group number (all classes together, as the
    UCF50 protocol and UCF101's splits do) and trains on the rest, so no group is ever
    on both sides and every group is tested exactly once. The group of a fold is
    ``video_group(video_files_paths[test_idx[0]])``. Report the mean over the folds.

    Args:
        video_files_paths: Paths whose names carry ``_gNN_cNN`` (e.g. from :func:`create_dataset`).

    Returns:
        An iterator over ``(train_idx, test_idx)``, sorted int64 arrays, in increasing group order.

    Raises:
        ValueError: Fewer than 2 groups, or a name without a group tag (raised at once).
    """
    groups = np.array([video_group(p) for p in video_files_paths], dtype=np.int64)
    unique = np.unique(groups)
    if len(unique) < 2:
        raise ValueError(f"leave-one-group-out needs at least 2 groups, found {len(unique)}")

    def folds() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for group in unique:
            is_test = groups == group
            yield np.flatnonzero(~is_test), np.flatnonzero(is_test)

    return folds()


def _clip_key(path: str | os.PathLike) -> str:
    path = Path(path)
    return f"{path.parent.name}/{path.name}"


@dataclass(frozen=True)
class OfficialSplit:
    """One official UCF101 train/test split as file lists.

    Compose it with :func:`create_dataset` (labels then follow classInd.txt)::

        split = official_split(dataset_dir, split=1)
        features, labels, paths = create_dataset(dataset_dir, class_names=split.class_names, cache_dir=...)
        train_idx, test_idx = split.indices(paths)
    """

    split: int
    class_names: tuple[str, ...]  # label order: classInd.txt's, or the class_names asked for
    train_files: tuple[Path, ...]  # <dataset_dir>/<Class>/<file>, in list order
    test_files: tuple[Path, ...]

    def indices(self, video_files_paths: Sequence[str | os.PathLike]) -> tuple[np.ndarray, np.ndarray]:
        """``(train_idx, test_idx)`` into ``video_files_paths`` (as :func:`create_dataset` returns them).

        Paths are matched on ``<Class>/<file>``. Listed clips missing from
        ``video_files_paths`` (skipped as unreadable) are left out with a warning.

        Raises:
            ValueError: A path that is in neither list of this split.
        """
        train = {_clip_key(p) for p in self.train_files}
        test = {_clip_key(p) for p in self.test_files}
        keys = [_clip_key(p) for p in video_files_paths]
        unknown = [k for k in keys if k not in train and k not in test]
        if unknown:
            raise ValueError(f"{len(unknown)} videos are in neither list of official split {self.split}: "
                             f"{_names(unknown)}")
        is_test = np.array([k in test for k in keys], dtype=bool)
        absent = len(train) + len(test) - len(set(keys))
        if absent:
            warnings.warn(f"official split {self.split}: {absent} listed clips are not among the "
                          f"{len(keys)} videos given (skipped as unreadable?)", stacklevel=2)
        return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def official_split(dataset_dir: str | os.PathLike, *, split: int, splits_dir: str | os.PathLike | None = None,
                   class_names: Sequence[str] | None = None) -> OfficialSplit:
    """Read UCF101's official split ``split`` (1, 2 or 3) from its lists.

    The lists hold every clip once; split k tests on groups 1-7, 8-14 or 15-21 and
    trains on the rest. Report the mean accuracy over the three splits.

    Args:
        dataset_dir: The UCF101 folder (``<dataset_dir>/<Class>/<videos>``).
        split: 1, 2 or 3.
        splits_dir: Folder of ``classInd.txt``, ``trainlist0N.txt``, ``testlist0N.txt``;
            None looks in ``<dataset_dir>/ucfTrainTestlist`` then ``<dataset_dir>/../ucfTrainTestlist``.
        class_names: Keep only these classes, in this label order (e.g. a subset for a
            quick run); None means all 101 in classInd.txt order.

    Returns:
        An :class:`OfficialSplit`; its ``indices(video_files_paths)`` gives index arrays.

    Raises:
        ValueError: Unknown split, missing or malformed lists, unknown class names, or
            a clip or a (class, group) on both sides.
    """
    from helpers.datasets import split_file_names

    train_name, test_name = split_file_names(split)
    root = Path(dataset_dir)
    sdir = _find_splits_dir(root, splits_dir)
    missing = [f for f in ("classInd.txt", train_name, test_name) if not (sdir / f).is_file()]
    if missing:
        raise ValueError(f"{sdir}: missing split files {', '.join(missing)}; get them with "
                         "'python -m helpers.datasets download ucf101' or pass splits_dir=")
    class_ind = _read_class_ind(sdir / "classInd.txt")
    names = list(class_ind) if class_names is None else list(class_names)
    unknown = [name for name in names if name not in class_ind]
    if unknown:
        raise ValueError(f"{sdir / 'classInd.txt'} does not list {', '.join(unknown)}")
    wanted = set(names)
    train = [rel for rel in _read_split_list(sdir / train_name, class_ind) if rel.split("/")[0] in wanted]
    test = [rel for rel in _read_split_list(sdir / test_name, class_ind) if rel.split("/")[0] in wanted]
    if both := sorted(set(train) & set(test)):
        raise ValueError(f"{sdir}: {len(both)} clips are in both {train_name} and {test_name}: {_names(both)}")
    train_groups = {(rel.split("/")[0], video_group(rel)) for rel in train}
    if leaks := sorted(f"{c} g{g:02d}" for c, g in {(r.split("/")[0], video_group(r)) for r in test} & train_groups):
        raise ValueError(f"{sdir}: groups on both sides of split {split}: {_names(leaks)}")
    return OfficialSplit(split=split, class_names=tuple(names), train_files=tuple(root / rel for rel in train),
                         test_files=tuple(root / rel for rel in test))



def clip_frames(features: np.ndarray, labels: np.ndarray, *, frames_per_clip: int) -> tuple[np.ndarray, np.ndarray]:
    """Single frames of clips, each labelled with its clip's class (a frame-level task).

    ``frames_per_clip`` frames spread evenly over each clip (:func:`sample_indices`), for
    pretraining a frame encoder (:func:`helpers.training.pretrain_frame_encoder`).

    Args:
        features: uint8 ``(num_clips, num_frames, height, width, 3)`` (a memmap is fine).
        labels: int ``(num_clips,)``.
        frames_per_clip: Frames taken from each clip, at most ``num_frames``.

    Returns:
        ``(frames, frame_labels)``: uint8 ``(num_clips * frames_per_clip, height, width, 3)``
        in clip order, and int64 ``(num_clips * frames_per_clip,)``.
    """
    labels = np.asarray(labels, dtype=np.int64)
    if len(features) != len(labels):
        raise ValueError(f"{len(features)} clips but {len(labels)} labels")
    idx = sample_indices(features.shape[1], frames_per_clip)
    frames = np.asarray(features[:, idx]).reshape(-1, *features.shape[2:])
    return frames, np.repeat(labels, frames_per_clip)
