"""One row of the model-comparison table (issue 8, notebook 05): every model on the same data and split.

A row holds the held-out (group split) accuracy, the parameter count, GFLOPs per clip
(:func:`helpers.flops.gflops`, counted, not guessed), CPU latency per clip, training time
and the accuracy under the fixed perturbations of :mod:`helpers.robustness`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from helpers.experiment import RunResult
from helpers.flops import gflops
from helpers.robustness import DEFAULT_STRENGTHS, robustness_scores

#: Columns of ``results/model_comparison.csv``, in order.
COMPARISON_COLUMNS: tuple[str, ...] = (
    "model", "accuracy", "params", "gflops", "latency_ms", "train_s",
    "robust_noise", "robust_blur", "robust_brightness", "robust_dropped_frames",
)


def latency_ms(model: keras.Model, inputs, *, reps: int = 20, warmup: int = 3) -> float:
    """Median wall time (ms) of one compiled forward pass on a batch of one clip.

    The model runs inside a ``tf.function`` (traced once during the warm-up), which is how
    a deployed model runs; ``model.predict`` adds milliseconds of Python overhead per call.

    Args:
        model: Any Keras model.
        inputs: One clip with its batch axis, ``(1, num_frames, h, w, 3)``, or a dict of such
            inputs for a multi-input model.
        reps: Timed repetitions (the median is returned).
        warmup: Untimed calls first (tracing, memory allocation).
    """
    forward = tf.function(lambda x: model(x, training=False))
    for _ in range(max(1, warmup)):
        forward(inputs)
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        np.asarray(forward(inputs))  # waits for the result
        times.append((time.perf_counter() - start) * 1000.0)
    return float(np.median(times))


def _first_clip(features) -> object:
    if isinstance(features, Mapping):
        return {name: np.asarray(array[:1]) for name, array in features.items()}
    return np.asarray(features[:1])


def comparison_row(name: str, run: RunResult, *, test_features, test_clips: np.ndarray, test_labels: np.ndarray,
                   extra_train_s: float = 0.0, inputs_fn: Callable[[np.ndarray], object] | None = None,
                   strengths: Mapping[str, float] = DEFAULT_STRENGTHS, seed: int = 27, latency_reps: int = 20
                   ) -> dict:
    """Measure one trained model for the comparison table.

    Args:
        name: The ``model`` column.
        run: From :func:`helpers.experiment.run_experiment` (its test evaluation gives ``accuracy``).
        test_features: The model's inputs for the test clips (an array, or a dict for two-stream);
            its first clip is used for the latency.
        test_clips: uint8 ``(n, num_frames, h, w, 3)`` test clips, perturbed for robustness.
        test_labels: int ``(n,)``.
        extra_train_s: Training time spent outside ``run`` (e.g. pretraining a transferred encoder).
        inputs_fn: Maps perturbed clips to the model's inputs (two-stream: clip + recomputed flow).
        strengths: Perturbation strengths (default :data:`helpers.robustness.DEFAULT_STRENGTHS`).
        seed: Seed of the perturbations: the same for every model.
        latency_reps: Repetitions of the latency measurement.

    Returns:
        A dict with the keys of :data:`COMPARISON_COLUMNS`.
    """
    model = run.model
    row = {
        "model": name,
        "accuracy": run.evaluation.accuracy,
        "params": int(model.count_params()),
        "gflops": gflops(model),
        "latency_ms": latency_ms(model, _first_clip(test_features), reps=latency_reps),
        "train_s": run.train_seconds + extra_train_s,
    }
    row.update(robustness_scores(model, test_clips, test_labels, strengths=strengths, seed=seed,
                                 inputs_fn=inputs_fn))
    return row


def comparison_table(rows: list[dict]) -> pd.DataFrame:
    """Rows from :func:`comparison_row` as a DataFrame with :data:`COMPARISON_COLUMNS`."""
    return pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))
