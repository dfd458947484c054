"""Memory: peak RSS of a fresh process (read from ``/proc``) extracting a folder into the cache, and of
``predict_on_video`` writing an annotated copy of a large video (issue 17)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.models import model_builders
from benchmarks.settings import NUM_CLASSES, SETTINGS
from helpers.config import SEED
from helpers.data import create_dataset


def children_cpu_ms() -> float:
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
    code = ("import sys; from benchmarks.memory import _peak_rss_child; "
            "_peak_rss_child(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))")
    # run from the checkout that holds this file, so that ``benchmarks`` and its ``helpers`` import
    done = subprocess.run([sys.executable, "-c", code, str(dataset_dir), str(cache_dir), str(num_frames),
                           str(image_size)], capture_output=True, text=True, check=False,
                          cwd=Path(__file__).resolve().parent.parent)
    if done.returncode != 0:
        raise RuntimeError(f"peak-RSS run on {dataset_dir} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


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
    code = ("import sys; from benchmarks.memory import _stream_rss_child; "
            "_stream_rss_child(sys.argv[1], sys.argv[2], sys.argv[3])")
    done = subprocess.run([sys.executable, "-c", code, setting, str(video), str(work_dir / "rss_annotated.mp4")],
                          capture_output=True, text=True, check=False, cwd=Path(__file__).resolve().parent.parent)
    if done.returncode != 0:
        raise RuntimeError(f"streaming peak-RSS run failed:\n{done.stderr[-2000:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    width, height = settings.rss_stream_size
    return {**report, "width": width, "height": height, "seconds": settings.rss_stream_s}
