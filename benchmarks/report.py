"""Section 6 and the report: ``make run``'s time, the machine, the targets' pass/fail, and the Markdown tables
(``bench.md``, ``bench_extraction.md``) that ``make readme`` pastes into the README."""

from __future__ import annotations

import json
import math
import os
import platform
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from benchmarks.settings import (
    FLOOR_FACTOR,
    LIVE_CHANGES_PER_10S,
    LIVE_KEEP_UP,
    LIVE_P95_MS,
    REALTIME_FACTOR,
    REALTIME_FPS,
    RSS_FLAT_FACTOR,
    SEEK_SPEEDUP,
    STREAM_RSS_MB,
    STREAM_SPEEDUP,
)
from helpers.config import PROJECT_ROOT
from helpers.data import LARGE_FRAME_PIXELS


def read_make_run(paths: Sequence[Path]) -> tuple[float | None, str]:
    """``make_run_s`` from the first ``make_run.json`` found (after an incremental run that skipped notebooks: the
    sum of each notebook's last execution, ``notebooks_s``), and a note: where it came from and, when the file has
    them, the seconds of each notebook, and which notebooks an incremental run skipped (``skipped``)."""
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
            if "jobs" in record:
                note += f"; JOBS={record['jobs']}"
            if "cpu_steal_pct" in record:
                note += f", CPUs {record['cpu_busy_pct']:.0f} % busy, steal {record['cpu_steal_pct']:.1f} %"
            if per_notebook:
                note += "; per notebook: " + ", ".join(f"{k} {v:.0f} s" for k, v in per_notebook.items())
            skipped = record.get("skipped") or []
            if skipped:  # an incremental run: its own time is not a full run's; the notebooks' last executions are
                note += (f"; incremental run: {', '.join(map(str, skipped))} skipped as up to date "
                         "(their seconds are from their last execution)")
                if per_notebook:  # the same figure as the README's make_run section (scripts/readme.py)
                    value = sum(per_notebook.values())
                    note += f"; the time is the sum of each notebook's last execution ({record['make_run_s']:.0f} s " \
                            "this invocation)"
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


def finish_machine(machine: dict) -> None:
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
