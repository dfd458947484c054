"""frame_extraction and its decoder set-up: indices over the whole clip, RGB, bad files named."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from helpers.video import (
    DECODER_THREADS,
    LARGE_FRAME_PIXELS,
    VideoReadError,
    frame_extraction,
    open_video,
    resolve_decoder_threads,
    sample_indices,
)
from tests.conftest import numbered_frames, write_video


def reference_decode(path: Path) -> list[np.ndarray]:
    """Every frame of a video, BGR as OpenCV returns it: the reference for index and colour checks."""
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames


@pytest.mark.parametrize("total,num", [(20, 20), (21, 20), (47, 20), (100, 20), (1000, 7), (5, 1)])
def test_sample_indices_spread_over_whole_clip(total, num):
    idx = sample_indices(total, num)
    assert idx.shape == (num,)
    assert np.all(np.diff(idx) > 0) and idx[0] >= 0 and idx[-1] < total
    # sample k lies inside the k-th of num equal segments of the clip
    k = np.arange(num)
    assert np.all(idx >= np.floor(k * total / num)) and np.all(idx < np.ceil((k + 1) * total / num))
    # and the last sample lies in the last segment, so the clip's end is covered
    assert idx[-1] >= total - total / num - 1


def test_sample_indices_too_short():
    with pytest.raises(ValueError, match="fewer than num_frames"):
        sample_indices(19, 20)


def test_frame_extraction_returns_documented_indices_in_rgb(tmp_path):
    frames = numbered_frames(50, size=32)
    path = write_video(tmp_path / "v_Test_g01_c01.avi", frames)
    out = frame_extraction(path, num_frames=10, image_size=16)
    assert out.shape == (10, 16, 16, 3) and out.dtype == np.uint8
    reference = reference_decode(path)
    for k, i in enumerate(sample_indices(len(reference), 10)):
        expected_rgb = cv2.cvtColor(cv2.resize(reference[i], (16, 16), interpolation=cv2.INTER_AREA),
                                    cv2.COLOR_BGR2RGB)
        np.testing.assert_array_equal(out[k], expected_rgb)
    # colours encode the frame index: red rises, blue falls (a BGR/RGB swap would invert this)
    assert out[-1, ..., 0].mean() > out[0, ..., 0].mean()
    assert out[-1, ..., 2].mean() < out[0, ..., 2].mean()


def test_frame_extraction_on_real_h264(real_mp4):
    out = frame_extraction(real_mp4, num_frames=20, image_size=64)
    assert out.shape == (20, 64, 64, 3)
    reference = reference_decode(real_mp4)
    i = sample_indices(len(reference), 20)[7]
    expected = cv2.cvtColor(cv2.resize(reference[i], (64, 64), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(out[7], expected)


def test_frame_extraction_gives_the_same_frames_whatever_the_decoder_threads(tmp_path, real_mp4):
    """"auto" by default (DECODER_THREADS); every set-up gives the same frames."""
    assert DECODER_THREADS == "auto"
    avi = write_video(tmp_path / "v_Test_g01_c01.avi", numbered_frames(50, size=32), fourcc="XVID")
    for path in (avi, real_mp4):
        cap = open_video(Path(path), threads=1)
        assert cap.get(cv2.CAP_PROP_N_THREADS) == 1
        cap.release()
        one = frame_extraction(path, num_frames=10, image_size=24, decoder_threads=1)
        for threads in (None, 2, "auto"):
            np.testing.assert_array_equal(frame_extraction(path, num_frames=10, image_size=24,
                                                           decoder_threads=threads), one)
        np.testing.assert_array_equal(frame_extraction(path, num_frames=10, image_size=24), one)


def test_auto_decoder_threads_resolve_by_frame_size():
    """"auto": one thread up to LARGE_FRAME_PIXELS per frame, FFmpeg's default threads (None) above."""
    assert LARGE_FRAME_PIXELS == 640 * 480
    for width, height in ((0, 0), (160, 120), (176, 144), (320, 240), (640, 272), (640, 480)):
        assert resolve_decoder_threads(width, height, "auto") == 1, (width, height)
    for width, height in ((641, 480), (1280, 720), (1920, 1080)):
        assert resolve_decoder_threads(width, height, "auto") is None, (width, height)
    assert resolve_decoder_threads(1280, 720) is None  # the default is "auto"
    for threads in (1, 2, None):  # a number or None is kept whatever the size
        assert resolve_decoder_threads(160, 120, threads) == resolve_decoder_threads(1920, 1080, threads) == threads
    with pytest.raises(ValueError, match="'auto'"):
        resolve_decoder_threads(160, 120, "many")


class _NoFrameCount:
    """A VideoCapture whose header has no frame count (frame_extraction then counts, then reads again)."""

    def __init__(self, cap: cv2.VideoCapture):
        self._cap = cap

    def __getattr__(self, name: str):
        return getattr(self._cap, name)

    def get(self, prop: int) -> float:
        return 0.0 if prop == cv2.CAP_PROP_FRAME_COUNT else self._cap.get(prop)


@pytest.mark.parametrize("size", [(32, 24), (704, 480)])  # "auto": one thread / default threads
@pytest.mark.parametrize("header_count", [True, False])
def test_auto_decoder_threads_open_the_resolved_set_up_with_the_same_frames(monkeypatch, tmp_path, size,
                                                                             header_count):
    """frame_extraction's "auto" opens on one thread, reopens on the default threads (None) only
    above LARGE_FRAME_PIXELS, keeps that set-up for the second pass, and gives the 1-thread frames."""
    import helpers.video as data

    width, height = size
    frames = np.zeros((12, height, width, 3), np.uint8)
    for i in range(len(frames)):  # a flat colour encoding the frame index, and a bar that moves
        frames[i] = (8 * i, 128, 255 - 8 * i)
        frames[i, :, 2 * i:2 * i + 8] = 255
    path = write_video(tmp_path / "v_Test_g01_c01.avi", frames)
    one = frame_extraction(path, num_frames=5, image_size=16, decoder_threads=1)
    opened = []
    real_open = data.open_video

    def spy_open(p, *, threads=None):
        opened.append(threads)
        cap = real_open(p, threads=threads)
        return cap if header_count else _NoFrameCount(cap)

    monkeypatch.setattr(data, "open_video", spy_open)
    np.testing.assert_array_equal(frame_extraction(path, num_frames=5, image_size=16, decoder_threads="auto"), one)
    resolved = None if width * height > LARGE_FRAME_PIXELS else 1
    assert resolved == resolve_decoder_threads(width, height, "auto")
    expected = [1] if resolved == 1 else [1, None]  # the probe on one thread, then the resolved set-up
    if not header_count:
        expected.append(resolved)  # the second pass: the same set-up
    assert opened == expected


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    good = write_video(tmp_path / "good.avi", numbered_frames(60))
    empty = tmp_path / "empty.avi"
    empty.write_bytes(b"")
    text = tmp_path / "notes.avi"
    text.write_text("this is not a video\n" * 50)
    short = write_video(tmp_path / "short.avi", numbered_frames(5))
    truncated = tmp_path / "truncated.avi"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    return {
        "missing": (tmp_path / "missing.avi", "does not exist"),
        "empty": (empty, "empty"),
        "not a video": (text, "not a readable video|no decodable frames"),
        "too short": (short, "too short"),
        "truncated": (truncated, "truncated|too short|not a readable video|no decodable"),
    }


def test_a_directory_and_an_unreadable_file_are_named_with_the_reason(tmp_path, monkeypatch):
    with pytest.raises(VideoReadError, match="is a directory") as info:
        frame_extraction(tmp_path, num_frames=20, image_size=16)
    assert str(tmp_path) in str(info.value)
    locked = tmp_path / "locked.avi"
    locked.write_bytes(b"x" * 10)
    real_open = open

    def refuse(file, *args, **kwargs):  # root reads any file: simulate a permission error
        if str(file) == str(locked):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", refuse)
    with pytest.raises(VideoReadError, match="permission denied") as info:
        frame_extraction(locked, num_frames=20, image_size=16)
    assert str(locked) in str(info.value)


@pytest.mark.parametrize("kind", ["missing", "empty", "not a video", "too short", "truncated"])
def test_bad_input_raises_video_read_error_naming_file(tmp_path, kind):
    path, reason = _bad_files(tmp_path)[kind]
    with pytest.raises(VideoReadError, match=reason) as info:
        frame_extraction(path, num_frames=20, image_size=16)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_truncated_file_with_lying_header_is_refused(tmp_path):
    good = write_video(tmp_path / "good.avi", numbered_frames(200))
    truncated = tmp_path / "cut.avi"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(VideoReadError, match="truncated|too short|no decodable|not a readable"):
        frame_extraction(truncated, num_frames=20, image_size=16)
