"""Decoding one video: ``num_frames`` RGB frames spread evenly over the whole clip (paper 001's
converter phase, with the original code's defects fixed).

* Frames are spread evenly over the *whole* clip (:func:`sample_indices`) and read
  sequentially: one decode pass, ``grab()`` on every frame and ``retrieve()`` only on
  the wanted ones; never a ``CAP_PROP_POS_FRAMES`` seek per frame. FFmpeg decodes on
  one thread up to :data:`LARGE_FRAME_PIXELS` per frame (its frame threading costs more
  than it saves on small frames) and on its default threads above (HD video), the
  ``"auto"`` set-up of :data:`DECODER_THREADS`.
* Frames are RGB uint8. Scaling to [0, 1] happens inside the models (a Rescaling
  layer), never in a float64 copy of the whole dataset.
* Bad files raise :class:`VideoReadError` naming the file and the reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

VIDEO_EXTENSIONS = (".avi", ".mp4", ".mkv", ".mov", ".webm", ".mpg", ".mpeg", ".m4v")
# A container's frame count may be an estimate (duration x fps): tolerate this much shortfall
# before calling a file truncated.
_TRUNCATION_TOLERANCE = 0.05
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


def check_video_file(path: str | os.PathLike) -> Path:
    """``path`` as a Path if it is a readable, non-empty file; else :class:`VideoReadError` saying why
    (missing, a directory, no permission to read, empty). The library and the CLI say the same."""
    path = Path(path)
    if not path.exists():
        raise VideoReadError(path, "file does not exist")
    if path.is_dir():
        raise VideoReadError(path, "is a directory, not a video file")
    try:
        with open(path, "rb") as file:
            empty = not file.read(1)
    except PermissionError:
        raise VideoReadError(path, "permission denied: the file cannot be read") from None
    if empty:
        raise VideoReadError(path, "file is empty (0 bytes)")
    return path


def open_video(path: Path, *, threads: int | None = None) -> cv2.VideoCapture:
    """Open a video with FFmpeg, or raise :class:`VideoReadError` naming the file and the reason.

    Args:
        path: The video file.
        threads: FFmpeg decoding threads (``CAP_PROP_N_THREADS``); None keeps OpenCV's
            default (one per CPU).
    """
    check_video_file(path)
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
