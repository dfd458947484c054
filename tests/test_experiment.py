"""helpers.experiment's notebook plumbing: load_clips (run_experiment is tested in test_training.py)."""

from __future__ import annotations

import json

from helpers.config import Paths
from helpers.experiment import load_clips


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
