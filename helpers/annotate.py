"""Videos written for people to watch: a label drawn on a frame (paper 001 Figure 7), the annotated copy of a
classified video or live stream (:class:`AnnotatedWriter`), and test videos joined end to end
(:func:`concatenate_videos`). No TensorFlow here.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from helpers.atomic import atomic_write, replace, temp_path
from helpers.video import decode_frames, open_video, rgb_array

#: Frame rate assumed when a container does not state one.
FALLBACK_FPS = 25.0
_FOURCC = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "MJPG"}
#: Codecs of the annotated video by suffix, best first: H.264 (what browsers play) where
#: PyAV's FFmpeg has libx264 (its wheels do), else the fall-back.
ANNOTATED_CODECS = {".mp4": ("libx264", "mpeg4"), ".m4v": ("libx264", "mpeg4"), ".mov": ("libx264", "mpeg4"),
                    ".mkv": ("libx264", "mjpeg"), ".avi": ("mjpeg",)}
#: Longest side of the annotated video: larger inputs (4K phone clips) are downscaled to it as
#: they are decoded, so the frames waiting for their label hold bounded memory whatever the input.
ANNOTATED_MAX_SIDE = 1280


def label_frame(frame_rgb: np.ndarray, text: str, *, scale: float = 0.5) -> np.ndarray:
    """A copy of ``frame_rgb`` with ``text`` written in its top-left corner (paper 001 Figure 7)."""
    out = frame_rgb.copy()
    thickness = max(1, int(round(2 * scale)))
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    cv2.rectangle(out, (0, 0), (w + 8, h + base + 8), (0, 0, 0), -1)
    cv2.putText(out, text, (4, h + 4), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness, cv2.LINE_AA)
    return out


class AnnotatedWriter:
    """Writes every decoded frame, downscaled to ``max_side``, with the (smoothed) label of the latest finished
    window, at the input's average frame rate; atomically (a temporary file renamed on ``close(ok=True)``)."""

    def __init__(self, path: Path, *, fps: float, max_side: int = ANNOTATED_MAX_SIDE):
        codecs = [c for c in ANNOTATED_CODECS.get(path.suffix.lower(), ()) if c in av.codecs_available]
        if not codecs:
            raise ValueError(f"{path}: annotated video must end in one of {sorted(ANNOTATED_CODECS)}")
        # the container is picked by the suffix
        self.path, self.max_side, self.tmp = path, max_side, temp_path(path, suffix=path.suffix)
        self.container = av.open(str(self.tmp), "w")
        self.stream = self.container.add_stream(codecs[0], rate=Fraction(fps).limit_denominator(1001),
                                                options={"preset": "veryfast"} if codecs[0] == "libx264" else {})
        self.stream.pix_fmt = "yuvj420p" if codecs[0] == "mjpeg" else "yuv420p"
        self.size: tuple[int, int] | None = None  # (width, height) every decoded frame is scaled to
        self.pending: deque[tuple[int, np.ndarray]] = deque()  # frames (RGB) waiting for their label
        self.labels: deque[tuple[int, str]] = deque()  # (end, text) of the windows the pending frames may show

    def add(self, index: int, frame: av.VideoFrame) -> None:
        first = self.size is None
        if first:  # even sides: yuv420p
            scale = min(1.0, self.max_side / max(frame.width, frame.height))
            self.size = (2 * max(1, round(frame.width * scale / 2)), 2 * max(1, round(frame.height * scale / 2)))
        rgb = rgb_array(frame, width=self.size[0], height=self.size[1])
        if first:  # the stream's size is the upright frame's (a rotation swaps the sides)
            self.stream.height, self.stream.width = rgb.shape[:2]
        self.pending.append((index, rgb))

    def label(self, end: int, text: str) -> None:
        """A window that ended at frame ``end`` (exclusive) with the label ``text``, in the windows' order (another
        thread may call it while :meth:`flush` runs: a deque's append and popleft are atomic)."""
        self.labels.append((end, text))

    def flush(self) -> None:
        """Label and write every pending frame; frame f shows the last window with end - 1 <= f
        (what a live stream would show), frames before the first window's end the first window."""
        while self.pending and self.labels:
            index, rgb = self.pending.popleft()
            while len(self.labels) > 1 and self.labels[1][0] - 1 <= index:
                self.labels.popleft()  # frames come in order: no later frame shows a window before this one
            text = self.labels[0][1]
            frame = av.VideoFrame.from_ndarray(label_frame(rgb, text, scale=max(0.4, rgb.shape[1] / 640)), "rgb24")
            frame.pts = index
            self.container.mux(self.stream.encode(frame))

    def close(self, *, ok: bool) -> None:
        if ok:
            self.container.mux(self.stream.encode())  # the encoder's delayed frames
        self.container.close()
        if ok:
            replace(self.tmp, self.path)  # atomic: never a half-written annotated video
        self.tmp.unlink(missing_ok=True)


def concatenate_videos(video_paths: Sequence[str | os.PathLike], output_path: str | os.PathLike, *,
                       fps: float | None = None, frame_size: tuple[int, int] | None = None) -> np.ndarray:
    """Join videos end to end into one file: a long test video with known segments.

    Args:
        video_paths: Videos in playing order.
        output_path: ``.mp4`` (MPEG-4 part 2) or ``.avi`` (MJPG).
        fps: Frame rate of the output; None keeps the first video's (25 if it has none).
        frame_size: ``(width, height)``; None keeps the first video's size (others are resized).

    Returns:
        int64 ``(num_videos + 1,)`` segment boundaries: video ``i`` fills frames
        ``[bounds[i], bounds[i + 1])`` of the output.
    """
    output_path = Path(output_path)
    fourcc = _FOURCC.get(output_path.suffix.lower())
    if fourcc is None:
        raise ValueError(f"{output_path}: output must end in one of {sorted(_FOURCC)}")
    bounds = [0]
    writer = None
    with atomic_write(output_path, suffix=output_path.suffix) as tmp:  # cv2 picks the container by the suffix
        try:
            for path in video_paths:
                container = open_video(Path(path))
                count = 0
                try:
                    for decoded in decode_frames(container):
                        frame = cv2.cvtColor(rgb_array(decoded), cv2.COLOR_RGB2BGR)
                        if writer is None:
                            frame_size = frame_size or (frame.shape[1], frame.shape[0])
                            fps = fps or float(container.streams.video[0].average_rate or FALLBACK_FPS)
                            writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*fourcc), fps, frame_size)
                            if not writer.isOpened():
                                raise ValueError(f"{output_path}: cv2.VideoWriter cannot write {fourcc!r} here")
                        if (frame.shape[1], frame.shape[0]) != frame_size:
                            frame = cv2.resize(frame, frame_size, interpolation=cv2.INTER_AREA)
                        writer.write(frame)
                        count += 1
                finally:
                    container.close()
                bounds.append(bounds[-1] + count)
            if writer is None:
                raise ValueError("no frames to write: every input video is empty")
        finally:
            if writer is not None:
                writer.release()  # before the rename: the file is complete
    return np.asarray(bounds, dtype=np.int64)
