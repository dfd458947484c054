"""frame_extraction and its decoder set-up: indices over the whole clip, RGB, bad files named."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

import helpers.video as video_module
from helpers.video import (
    DECODER_THREADS,
    LARGE_FRAME_PIXELS,
    VideoReadError,
    decode_frames,
    frame_extraction,
    open_video,
    resolve_decoder_threads,
    sample_indices,
)
from tests.conftest import numbered_frames, write_av_video, write_video


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
        with open_video(Path(path), threads=1) as container:
            assert container.streams.video[0].codec_context.thread_count == 1
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


@pytest.mark.parametrize("size", [(32, 24), (704, 480)])  # "auto": one thread / FFmpeg's frame threads
def test_auto_decoder_threads_are_set_by_the_streams_frame_size(tmp_path, size):
    width, height = size
    path = write_av_video(tmp_path / "v.mp4", np.zeros((12, height, width, 3), np.uint8))
    with open_video(path) as container:
        context = container.streams.video[0].codec_context
        if width * height > LARGE_FRAME_PIXELS:
            assert context.thread_type == av.codec.context.ThreadType.AUTO and context.thread_count == 0
        else:
            assert context.thread_count == 1


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


# ----------------------------------------------------------------------------- issue 17: any video a person has


def noisy_numbered(num_frames: int, *, width: int = 64, height: int = 48, seed: int = 0) -> np.ndarray:
    """numbered_frames (flat colours encoding the index) with a noisy band at the bottom, so that
    every frame costs bytes (a truncated file then holds some frames, not none)."""
    frames = np.zeros((num_frames, height, width, 3), np.uint8)
    frames[:] = numbered_frames(num_frames, size=max(width, height))[:, :height, :width]
    frames[:, -height // 4:] = np.random.default_rng(seed).integers(0, 256, (num_frames, height // 4, width, 3))
    return frames


def assert_numbered(clip: np.ndarray, indices) -> None:
    """The top-left pixels of ``clip`` carry numbered_frames' colours of frames ``indices`` (lossy: +-12)."""
    expected = np.stack([((8 * i) % 256, 128, 255 - (8 * i) % 256) for i in indices])
    np.testing.assert_allclose(clip[:, 2, 2].astype(int), expected, atol=12)


@pytest.mark.parametrize(("codec", "suffix"), [("libx264", ".mp4"), ("libvpx-vp9", ".webm"), ("mpeg4", ".avi"),
                                                ("mjpeg", ".avi")])
def test_frames_agree_with_opencv_on_files_both_decode(tmp_path, codec, suffix):
    """PyAV decodes; where OpenCV's FFmpeg decodes the file too, the frames agree (in practice bit for bit)."""
    options = {"pix_fmt": "yuvj420p"} if codec == "mjpeg" else None
    path = tmp_path / f"v{suffix}"
    if codec == "mjpeg":
        path = write_video(path, noisy_numbered(40))
    else:
        path = write_av_video(path, noisy_numbered(40), codec=codec, options=options)
    out = frame_extraction(path, num_frames=10, image_size=16)
    reference = reference_decode(path)
    expected = np.stack([cv2.cvtColor(cv2.resize(reference[i], (16, 16), interpolation=cv2.INTER_AREA),
                                      cv2.COLOR_BGR2RGB) for i in sample_indices(len(reference), 10)])
    assert len(reference) == 40
    assert np.abs(out.astype(int) - expected).max() <= 2


@pytest.mark.parametrize("suffix", [".mp4", ".webm"])
def test_av1_decodes(tmp_path, suffix):
    """YouTube's codec: OpenCV's FFmpeg has only a hardware AV1 decoder; PyAV's has libdav1d."""
    path = write_av_video(tmp_path / f"av1{suffix}", noisy_numbered(30), codec="libsvtav1")
    with open_video(path) as container:
        assert container.streams.video[0].codec_context.name in ("av1", "libdav1d")
    clip = frame_extraction(path, num_frames=10, image_size=16)
    assert clip.shape == (10, 16, 16, 3) and clip.dtype == np.uint8
    assert_numbered(clip, sample_indices(30, 10))


def lossless_cut(source: Path, out: Path, *, start_s: float) -> Path:
    """What ``ffmpeg -ss START -i source -c copy out.mp4`` writes: packets from the keyframe before
    ``start_s`` copied, timestamps shifted so that ``start_s`` is 0; the mov muxer writes an edit list
    that hides the pre-roll (negative timestamps)."""
    with av.open(str(source)) as src, av.open(str(out), "w") as dst:
        ist = src.streams.video[0]
        ost = dst.add_stream_from_template(ist)
        offset = int(start_s / ist.time_base)
        packets = [p for p in src.demux(ist) if p.dts is not None]
        key = max(p.pts for p in packets if p.is_keyframe and p.pts <= offset)
        for packet in packets:
            if packet.pts >= key:
                packet.pts, packet.dts, packet.stream = packet.pts - offset, packet.dts - offset, ost
                dst.mux(packet)
    return out


def test_lossless_cut_with_an_edit_list_decodes(tmp_path):
    full = write_av_video(tmp_path / "full.mp4", noisy_numbered(75), options={"g": "25", "bf": "2"})
    cut = lossless_cut(full, tmp_path / "cut.mp4", start_s=1.5)
    with open_video(cut) as container:
        header = container.streams.video[0].frames
        decoded = sum(1 for _ in decode_frames(container))
    assert decoded == 75 - 38 and header > decoded  # the header counts the hidden pre-roll: "truncated" before
    clip = frame_extraction(cut, num_frames=10, image_size=16)
    assert_numbered(clip, 38 + sample_indices(decoded, 10))  # the frames after the cut, spread over them


def test_variable_frame_rate_webm_decodes_all_its_frames(tmp_path):
    """Matroska states no frame count; 30 frames at 30 fps then 20 at 5 fps (OpenCV's estimate: 145 frames)."""
    times_ms = [33 * i for i in range(30)] + [990 + 200 * i for i in range(20)]
    path = write_av_video(tmp_path / "vfr.webm", noisy_numbered(50), codec="libvpx-vp9", fps=30, times_ms=times_ms)
    with open_video(path) as container:
        assert sum(1 for _ in decode_frames(container)) == 50
    clip = frame_extraction(path, num_frames=10, image_size=16)
    assert_numbered(clip, sample_indices(50, 10))  # uniform in frame order, as in training


@pytest.mark.parametrize("container_options", [{"movflags": "faststart"}, {}])
def test_a_truncated_h264_file_still_fails_naming_the_file(tmp_path, container_options):
    good = write_av_video(tmp_path / "good.mp4", noisy_numbered(100), container_options=container_options)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(VideoReadError, match="truncated|not a readable video|no decodable") as info:
        frame_extraction(cut, num_frames=10, image_size=16)
    assert str(cut) in str(info.value)
    if container_options:  # the index comes first: half the frames decode, then time says truncated
        assert "truncated: the stream lasts 4.00 s" in str(info.value)


def resolution_change_webm(path: Path, frames: np.ndarray, *, switch: int, first_size: tuple[int, int]) -> Path:
    """A VP9 WebM whose frames before ``switch`` are the top-left ``first_size`` (width, height) crop of
    ``frames``, and full size after (as an adaptive stream or a WebRTC recording switches)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libvpx-vp9", rate=25)
        (stream.width, stream.height), stream.pix_fmt = first_size, "yuv420p"
        for rgb in frames[:switch]:
            crop = np.ascontiguousarray(rgb[:first_size[1], :first_size[0]])
            container.mux(stream.encode(av.VideoFrame.from_ndarray(crop, format="rgb24")))
        container.mux(stream.encode())
        encoder = av.codec.CodecContext.create("libvpx-vp9", "w")
        encoder.height, encoder.width = frames.shape[1:3]
        encoder.pix_fmt, encoder.time_base, encoder.framerate = "yuv420p", stream.codec_context.time_base, 25
        for i in range(switch, len(frames) + 1):
            frame = av.VideoFrame.from_ndarray(frames[i], format="rgb24") if i < len(frames) else None
            if frame is not None:
                frame.pts = i
            for packet in encoder.encode(frame):
                packet.stream = stream
                container.mux(packet)
    return path


def test_a_resolution_change_gives_new_frames_never_stale_ones(tmp_path):
    frames = noisy_numbered(40, width=96, height=72)
    path = resolution_change_webm(tmp_path / "switch.webm", frames, switch=20, first_size=(64, 48))
    clip = frame_extraction(path, num_frames=10, image_size=16)
    assert_numbered(clip, sample_indices(40, 10))
    assert len({frame.tobytes() for frame in clip}) == 10  # no repeated frame
    # each frame is resized from its own size: the 64x48 crops have no noisy band, the 96x72 frames one at the bottom
    noisy = clip[:, -3:].astype(float).std(axis=(1, 2)).max(axis=-1) > 5
    np.testing.assert_array_equal(noisy, sample_indices(40, 10) >= 20)


def rotate_mp4(path: Path, *, degrees: int) -> Path:
    """Patch the track header's display matrix of an .mp4 (what a phone writes when held upright)."""
    data = bytearray(path.read_bytes())
    at = data.index(b"tkhd") + 4 + 4 + 4 * 5 + 8 + 8  # version/flags, times, id, reserved, duration, reserved...
    one, zero = 0x10000, 0
    a, b = {90: (zero, one), 270: (zero, -one), 180: (-one, zero)}[degrees]
    matrix = [a, b, 0, -b, a, 0, 0, 0, 0x40000000]
    data[at:at + 36] = np.asarray(matrix, ">i4").tobytes()
    path.write_bytes(bytes(data))
    return path


def test_rotation_metadata_is_applied_as_opencv_does(tmp_path):
    frames = noisy_numbered(20, width=64, height=32)
    frames[:, :8, :8] = 255  # a white top-left corner
    path = rotate_mp4(write_av_video(tmp_path / "phone.mp4", frames), degrees=90)
    with open_video(path) as container:
        assert abs(next(decode_frames(container)).rotation) == 90
    ours = frame_extraction(path, num_frames=5, image_size=16)
    reference = reference_decode(path)
    assert reference[0].shape[:2] == (64, 32)  # OpenCV applies the rotation: portrait
    expected = np.stack([cv2.cvtColor(cv2.resize(reference[i], (16, 16), interpolation=cv2.INTER_AREA),
                                      cv2.COLOR_BGR2RGB) for i in sample_indices(20, 5)])
    assert np.abs(ours.astype(int) - expected).max() <= 2


def test_ffmpeg_log_lines_never_reach_the_terminal(tmp_path):
    """A damaged file makes FFmpeg log; the library (no --verbose) prints nothing on fd 2."""
    good = write_av_video(tmp_path / "good.mp4", noisy_numbered(40))
    damaged = tmp_path / "damaged.mp4"
    data = bytearray(good.read_bytes())
    data[len(data) // 2: len(data) // 2 + 400] = bytes(400)
    damaged.write_bytes(bytes(data))
    code = ("import sys; from helpers.video import frame_extraction\n"
            "try:\n    frame_extraction(sys.argv[1], num_frames=4, image_size=16)\nexcept ValueError:\n    pass")
    done = subprocess.run([sys.executable, "-c", code, str(damaged)], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0 and done.stderr == ""


def _extract_in_subprocess(path: str, **kwargs) -> subprocess.CompletedProcess:
    """frame_extraction in a child with a time limit: a test of a pipe fails, never hangs."""
    code = ("import sys; from helpers.video import frame_extraction\n"
            "try:\n    frame_extraction(sys.argv[1], num_frames=4, image_size=16)\n"
            "except ValueError as err:\n    print(err)")
    return subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[1], **kwargs)


def test_a_fifo_is_refused_at_once_never_waited_on(tmp_path):
    fifo = tmp_path / "fifo.mp4"
    os.mkfifo(fifo)  # no writer: opening it would wait forever
    done = _extract_in_subprocess(str(fifo))
    assert done.stdout.strip() == f"{fifo}: is a pipe, not a video file (save the stream to a file first)"


def test_an_anonymous_pipe_is_refused_not_half_read(tmp_path):
    """``classify <(cat v.mp4)``: the old check read its first byte, then FFmpeg saw no decodable frames."""
    video = write_av_video(tmp_path / "clip.mp4", numbered_frames(10))
    done = subprocess.run(["bash", "-c", f'{sys.executable} -c "$0" <(cat {video})',
                           "import sys; from helpers.video import frame_extraction\ntry:\n"
                           "    frame_extraction(sys.argv[1], num_frames=4, image_size=16)\n"
                           "except ValueError as err:\n    print(err)"],
                          capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[1])
    assert done.stdout.strip().endswith(": is a pipe, not a video file (save the stream to a file first)"), done


@pytest.fixture(scope="module")
def huge_frame_video(tmp_path_factory) -> Path:
    """One 8192x8192 black H.264 frame: ~200 KB on disk, over 1.5 GB to decode and convert."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25, options={"preset": "ultrafast", "crf": "51"})
        stream.width = stream.height = 8192
        stream.pix_fmt = "yuv420p"
        frame = av.VideoFrame(8192, 8192, "yuv420p")
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def test_frames_over_the_pixel_cap_are_refused_before_decoding(huge_frame_video, monkeypatch):
    assert huge_frame_video.stat().st_size < 1_000_000
    with pytest.raises(VideoReadError, match=r"8192x8192 pixels are over the cap of 33177600") as info:
        frame_extraction(huge_frame_video, num_frames=1, image_size=16)
    assert str(huge_frame_video) in str(info.value)
    monkeypatch.setattr(video_module, "MAX_FRAME_PIXELS", 8192 * 8192)  # the cap is overridable
    with open_video(huge_frame_video) as container:
        assert container.streams.video[0].codec_context.width == 8192


def test_the_pixel_cap_is_a_parameter_and_holds_mid_stream(tmp_path):
    path = write_av_video(tmp_path / "small.mp4", numbered_frames(4, size=64))
    with pytest.raises(VideoReadError, match="64x64 pixels are over the cap of 4095"):
        open_video(path, max_pixels=64 * 64 - 1)
    with open_video(path, max_pixels=64 * 64) as container:
        assert len(list(decode_frames(container))) == 4
    switch = resolution_change_webm(tmp_path / "switch.webm", noisy_numbered(40, width=96, height=72), switch=20,
                                    first_size=(64, 48))
    with open_video(switch, max_pixels=64 * 48) as container:  # the 96x72 half is never decoded
        assert 0 < len(list(decode_frames(container))) <= 20
