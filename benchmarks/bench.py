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

This module runs the sections in order and writes the files; each measured concern is its own module:
:mod:`benchmarks.settings` (run sizes, targets), :mod:`benchmarks.timing`, :mod:`benchmarks.extraction` (1),
:mod:`benchmarks.dataset` (2), :mod:`benchmarks.memory` (peak RSS), :mod:`benchmarks.models`,
:mod:`benchmarks.inference` (3), :mod:`benchmarks.streaming` (4, live), :mod:`benchmarks.deployment` (int8
LiteRT), :mod:`benchmarks.training` (5), :mod:`benchmarks.report` (6, targets, the tables).
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from tqdm.auto import tqdm

from benchmarks.dataset import bench_dataset
from benchmarks.extraction import bench_codecs, bench_extraction, h264_files
from benchmarks.inference import bench_inference
from benchmarks.memory import bench_stream_rss
from benchmarks.report import (
    evaluate_targets,
    extraction_targets,
    finish_machine,
    machine_info,
    read_make_run,
    render_extraction_markdown,
    render_markdown,
)
from benchmarks.settings import SETTINGS, BenchSettings
from benchmarks.streaming import bench_live, bench_stream, make_long_video
from benchmarks.training import bench_training
from helpers.config import project_paths
from helpers.data import list_videos
from helpers.synthetic import embedded_settings, generate_dataset


def _write_extraction_only(out_dir: Path, *, setting: str, settings: BenchSettings, machine: dict,
                           extraction: dict, codecs: dict | None, started: float) -> dict:
    """``--only extraction``: write ``bench_extraction.json`` and ``bench_extraction.md``; return the dict."""
    from helpers.atomic import write_text
    from helpers.results import write_json

    finish_machine(machine)
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

    finish_machine(machine)
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
