"""Notebook 05's table: one measured row per model, and paper 002's figures kept apart."""

from __future__ import annotations

import keras
import numpy as np

from helpers.comparison import COMPARISON_COLUMNS, comparison_row, comparison_table, latency_ms
from helpers.config import set_seed
from helpers.experiment import protocol_split, run_experiment
from helpers.models import clip_input
from helpers.papers import PAPER002_TABLE41, paper002_table
from helpers.results import write_table
from scripts.readme import section_model_comparison


def _tiny_run(tiny_dataset):
    from helpers.data import create_dataset

    features, labels, paths = create_dataset(tiny_dataset, num_frames=4, image_size=16, num_workers=1,
                                             progress=False)
    split = protocol_split(paths, protocol="group", test_size=0.34, val_size=0.5, seed=1)

    def build():
        inputs, x = clip_input(num_classes=3, num_frames=4, image_size=16)
        x = keras.layers.GlobalAveragePooling3D()(x)
        return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))

    set_seed(0)
    run = run_experiment(build, features, labels, split, class_names=["a", "b", "c"], epochs=1, batch_size=4,
                         patience=1, verbose=0)
    return run, features[split.test_idx], labels[split.test_idx]


def test_comparison_row_has_every_column_and_measured_values(tiny_dataset, tmp_path):
    run, clips, labels = _tiny_run(tiny_dataset)
    row = comparison_row("toy", run, test_features=clips, test_clips=clips, test_labels=labels, extra_train_s=5.0,
                         latency_reps=2)
    assert list(row) == list(COMPARISON_COLUMNS)
    assert row["accuracy"] == run.evaluation.accuracy
    assert row["params"] == 3 * 3 + 3  # Dense(3) on 3 pooled channels
    assert row["gflops"] == (2 * 3 * 3 + 3) / 1e9  # one multiply-add = 2 FLOPs, plus the bias
    assert row["latency_ms"] > 0 and row["train_s"] == run.train_seconds + 5.0
    assert all(0.0 <= row[c] <= 1.0 for c in COMPARISON_COLUMNS if c.startswith("robust_"))
    table = comparison_table([row, {**row, "model": "toy2"}])
    assert list(table.columns) == list(COMPARISON_COLUMNS) and list(table.model) == ["toy", "toy2"]
    write_table(table, tmp_path / "model_comparison.csv")
    section = section_model_comparison(tmp_path)
    assert "| toy2 |" in section and "model_comparison.csv" in section


def test_latency_accepts_a_dict_of_inputs():
    a, b = keras.Input((2,), name="a"), keras.Input((3,), name="b")
    model = keras.Model({"a": a, "b": b}, keras.layers.Dense(1)(keras.layers.Concatenate()([a, b])))
    ms = latency_ms(model, {"a": np.zeros((1, 2), "float32"), "b": np.zeros((1, 3), "float32")}, reps=2)
    assert ms > 0


def test_paper002_table_is_marked_as_literature():
    table = paper002_table()
    assert list(table.index) == list(PAPER002_TABLE41)
    assert "not comparable" in table.index.name
    assert table.loc["CNNs", "gflops"].startswith("7.2")
