"""Section 3: single-clip latency of the LRCN and the ConvLSTM, ``model.predict`` against the compiled paths."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from tqdm.auto import tqdm

from benchmarks.models import model_builders
from benchmarks.settings import NUM_CLASSES, BenchSettings
from benchmarks.timing import median, time_interleaved
from helpers.config import SEED
from helpers.papers import PAPER001


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
        medians = {k: median(t["wall_ms"]) for k, t in times.items()}
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
