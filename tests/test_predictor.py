"""helpers.predictor's timing: ``median_ms`` (notebook 06's runtimes) and ``latency_ms`` (notebook 05's column)."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.predictor import latency_ms, median_ms


def test_median_ms_runs_the_warmup_untimed_then_takes_the_median(monkeypatch):
    calls = []
    readings = iter([0, 1, 1, 2, 2, 7, 7, 8, 8, 9.5])  # perf_counter around each timed call: 1, 1, 5, 1, 1.5 s
    monkeypatch.setattr("helpers.predictor.time.perf_counter", lambda: next(readings))
    result = median_ms(calls.append, "clip", reps=5, warmup=2)
    assert calls == ["clip"] * 7  # 2 untimed + 5 timed
    assert result == pytest.approx(1000.0)  # the median: the 5 s outlier does not move it


def test_latency_ms_times_the_compiled_forward_pass_of_one_clip():
    keras = pytest.importorskip("keras")
    inputs = keras.Input((2, 4, 4, 3))
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(inputs)))
    ms = latency_ms(model, np.zeros((1, 2, 4, 4, 3), np.float32), reps=3, warmup=1)
    assert np.isfinite(ms) and ms > 0
