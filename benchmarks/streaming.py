"""Section 4: streaming one long video (the per-frame ``model.predict`` loop against ``predict_on_video``, Keras and
full-int8 LiteRT) and a live stream classified as it plays (issue 28)."""

from __future__ import annotations

import collections
import os
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from benchmarks.deployment import int8_predictor
from benchmarks.extraction import decode_floor, video_frame_size
from benchmarks.models import model_builders
from benchmarks.settings import NUM_CLASSES, REALTIME_FPS, BenchSettings
from benchmarks.timing import median, time_interleaved
from helpers.config import SEED
from helpers.data import (
    list_videos,
    open_video,
)
from helpers.synthetic import generate_dataset
from helpers.video import decode_frames, frame_to_rgb


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
    int8 = int8_predictor(model, video_path.parent / "lrcn_int8.tflite", num_frames=settings.num_frames,
                          image_size=settings.image_size)

    def ours_int8() -> None:
        counts["int8"] = predict_on_video(int8, video_path, window=window).total_frames

    with tqdm(total=3 * settings.reps, desc="Streaming", unit="run", disable=not progress) as bar:
        times = time_interleaved({"baseline": baseline, "ours": ours, "int8": ours_int8}, reps=settings.reps,
                                 bar=bar)
    fps_ours = counts["ours"] / (median(times["ours"]["wall_ms"]) / 1e3)
    fps_base = counts["baseline"] / (median(times["baseline"]["wall_ms"]) / 1e3)
    fps_int8 = counts["int8"] / (median(times["int8"]["wall_ms"]) / 1e3)
    with open_video(video_path) as container:
        video_fps = float(container.streams.video[0].average_rate or 0)
        width, height = video_frame_size(video_path)
    flat = {"stream_fps_per_frame_predict": fps_base, "stream_fps": fps_ours, "stream_fps_int8": fps_int8}
    details = {
        "model": "lrcn", "video_frames": total, "video_fps": video_fps, "width": width, "height": height,
        "baseline_frames": counts["baseline"], "window_s": window, "num_windows": result.num_windows,
        "fast_path": result.fast_path, "speedup": fps_ours / fps_base, "realtime_factor": fps_ours / REALTIME_FPS,
        "baseline_realtime_factor": fps_base / REALTIME_FPS, "int8_realtime_factor": fps_int8 / REALTIME_FPS,
    }
    return {"flat": flat, "details": details}


def bench_live(work_dir: Path, *, settings: BenchSettings, progress: bool = True) -> dict:
    """A live MPEG-TS stream written at 25 fps on 127.0.0.1 (:mod:`benchmarks.live_stream`, one action) classified
    by :func:`har_app.live.classify_live` for ``live_stream_s`` seconds, with the LRCN as ``.keras`` and as its
    full-int8 ``.tflite`` file: frames processed per second (the source's pace is the ceiling), frames dropped,
    capture-to-label latency beyond the window (p50, p95), and label changes per 10 s (issue 28's targets)."""
    import keras

    from benchmarks.live_stream import start
    from har_app.live import classify_live
    from helpers.inference import as_predictor

    keras.utils.set_random_seed(SEED)
    model = model_builders(settings)["lrcn"](num_classes=NUM_CLASSES, num_frames=settings.num_frames,
                                             image_size=settings.image_size)
    size = settings.image_size
    models = {"keras": model, "int8": int8_predictor(model, work_dir / "live_int8.tflite",
                                                     num_frames=settings.num_frames, image_size=size)}
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
