"""helpers.experiment's notebook plumbing: load_clips, run_protocols, record_paper001, leak_gap."""

from __future__ import annotations

import json

import keras
import pandas as pd

from helpers.config import Paths
from helpers.experiment import PAPER001_COLUMNS, leak_gap, load_clips, record_paper001, run_protocols
from helpers.models import clip_input


def _paths(tmp_path, dataset_dir) -> Paths:
    results = tmp_path / "results"
    return Paths(data_dir=tmp_path, dataset_dir=dataset_dir, embedded=False, cache_dir=tmp_path / "cache",
                 results_dir=results, figures_dir=results / "figures", models_dir=results / "models")


def test_load_clips_prefers_the_paper_classes_and_records_the_dataset(tmp_path, tiny_dataset):
    paths = _paths(tmp_path, tiny_dataset)
    data = load_clips(paths, num_frames=6, image_size=16, prefer_classes=("SitDown", "StandUp"))
    assert data.class_names == ["SitDown", "StandUp"]
    assert data.features.shape == (12, 6, 16, 16, 3) and sorted(set(data.labels.tolist())) == [0, 1]
    assert all("SitDown" in p or "StandUp" in p for p in data.video_files_paths)
    recorded = json.loads((paths.results_dir / "dataset.json").read_text())
    assert recorded["class_names"] == ["SitDown", "StandUp"] and recorded["num_clips"] == 12
    assert recorded["num_groups"] == 3 and "generator_version" not in recorded  # not the embedded dataset
    everything = load_clips(paths, num_frames=6, image_size=16, prefer_classes=("SitDown", "Missing"))
    assert everything.class_names == ["Jumping", "SitDown", "StandUp"]  # not all preferred present: take all


def test_run_protocols_then_record_rows_and_gap(tmp_path, tiny_dataset):
    paths = _paths(tmp_path, tiny_dataset)
    data = load_clips(paths, num_frames=4, image_size=16, prefer_classes=None)

    def build():
        inputs, x = clip_input(num_classes=3, num_frames=4, image_size=16, class_names=data.class_names)
        x = keras.layers.GlobalAveragePooling3D()(x)
        return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))

    runs = run_protocols(build, data, protocols=("random_clip", "group"), epochs=1, batch_size=4, patience=1,
                         test_size=0.34, val_size=0.5, seed=1, verbose=0)
    assert list(runs) == ["random_clip", "group"]
    gap = leak_gap(runs)
    assert gap == runs["random_clip"].evaluation.accuracy - runs["group"].evaluation.accuracy
    assert leak_gap({"group": runs["group"]}) is None

    table = record_paper001(runs, model="toy", results_dir=paths.results_dir)
    assert list(table.columns) == list(PAPER001_COLUMNS) and len(table) == 2
    again = record_paper001({"group": runs["group"]}, model="other", results_dir=paths.results_dir)
    keys = sorted(zip(again.model, again.protocol, strict=True))
    assert keys == [("other", "group"), ("toy", "group"), ("toy", "random_clip")]
    on_disk = pd.read_csv(paths.results_dir / "paper001.csv")
    assert len(on_disk) == 3 and (paths.results_dir / "paper001.md").exists()
