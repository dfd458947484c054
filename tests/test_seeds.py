"""scripts/seeds.py (`make seeds`): one row per model and seed in the quick profile, resumable."""

from __future__ import annotations

import pandas as pd

from scripts import seeds
from scripts.readme import section_seeds


def test_settings_come_from_the_notebooks_config_cells(monkeypatch):
    monkeypatch.setenv("HAR_QUICK", "1")
    config = seeds.notebook_config(seeds.PROJECT_ROOT / "notebooks" / "03_cnn_rnn_hybrid.ipynb")
    assert config["QUICK"] is True and config["ALPHA"] == 0.7 and config["OPTIMIZER"] in config["OPTIMIZERS"]
    assert seeds.notebook_config(seeds.PROJECT_ROOT / "notebooks" / "01_lrcn.ipynb")["MODEL_NAME"] == "lrcn"
    assert seeds.parse_seeds("27, 28") == [27, 28] and seeds.parse_seeds(None) == list(seeds.DEFAULT_SEEDS)


def test_quick_profile_writes_one_row_per_model_and_seed_and_resumes(tmp_path, monkeypatch):
    """The LRCN (notebook 01's settings) and the CNN (notebook 03's), two seeds each: four tiny runs."""
    monkeypatch.setenv("HAR_QUICK", "1")
    monkeypatch.delenv("HAR_DATASET_DIR", raising=False)
    args = ["--seeds", "27,28", "--models", "lrcn,cnn"]
    trained = seeds.main(args, root=tmp_path)
    out = tmp_path / "results" / "quick" / "seeds.csv"
    table = pd.read_csv(out)
    expected = sorted((model, seed) for model in ("cnn", "lrcn") for seed in (27, 28))
    assert sorted(zip(table.model, table.seed, strict=True)) == expected and len(trained) == len(expected)
    assert list(table.columns) == seeds.SEEDS_COLUMNS and table.accuracy.between(0, 1).all()
    # a rerun finds every row there and trains nothing
    assert seeds.main(args, root=tmp_path) == []
    assert pd.read_csv(out).equals(table)
    # the README shows mean and std per model
    text = section_seeds(out.parent)
    assert "| lrcn |" in text and "accuracy std" in text
