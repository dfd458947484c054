"""`python -m helpers train`: a folder of class folders -> a model, its card and report; bad files named once."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from har_app.cli import main
from har_app.own_videos import RECIPES, train_folder
from helpers.experiment import model_card as experiment_card
from tests.conftest import numbered_frames, write_video

ROOT = Path(__file__).resolve().parent.parent
TINY = ["--model", "rnn", "--epochs", "1", "--num-frames", "8", "--image-size", "16"]


@pytest.fixture
def own_folder(tiny_dataset, tmp_path, monkeypatch) -> Path:
    """The tiny embedded dataset, StandUp's files renamed without group tags, one corrupt file in Jumping;
    data/ and results/ under tmp_path (HAR_HOME)."""
    root = tmp_path / "home" / "my videos"
    shutil.copytree(tiny_dataset, root, ignore=shutil.ignore_patterns(".*"))
    for i, path in enumerate(sorted((root / "StandUp").iterdir())):
        path.rename(path.with_name(f"standing up {i}{path.suffix}"))
    (root / "Jumping" / "broken.avi").write_bytes(b"not a video")
    monkeypatch.setenv("HAR_HOME", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("HAR_CWD", raising=False)
    monkeypatch.delenv("HAR_DATASET_DIR", raising=False)
    return root


def test_train_writes_a_model_card_and_report_and_names_the_bad_file_once(own_folder, tmp_path, monkeypatch,
                                                                          capsys):
    from helpers import experiment
    from helpers.models import load_model, model_spec

    cards = []  # the card is experiment.model_card's (the notebooks'), in this command's words: one definition
    monkeypatch.setattr(experiment, "model_card", lambda *a, **k: cards.append(experiment_card(*a, **k)) or cards[-1])
    monkeypatch.chdir(own_folder.parent)  # a relative folder, as typed
    assert main(["train", "my videos", *TINY, "--output", "cli"]) == 0
    out, err = capsys.readouterr()
    assert err.count("broken.avi") == 1, err
    assert "have no group tag" in err and "held-out accuracy" in out
    out_dir = own_folder.parent / "cli"
    report = json.loads((out_dir / "rnn.json").read_text())
    assert report["skipped"] == [str(own_folder / "Jumping" / "broken.avi")]
    assert report["data"] == {"folder": str(own_folder), "clips": 18, "groups": 3 + 6, "listed": 19}
    split, held_out = report["split"], report["held_out"]
    assert split["train"] + split["validation"] + split["test"] == 18 and held_out["clips"] == split["test"]
    assert held_out["ci_low"] <= held_out["accuracy"] <= held_out["ci_high"]
    assert all(c["test_clips"] >= 1 for c in report["classes"].values())  # stratified: every class tested
    model = load_model(out_dir / "rnn.keras")
    assert list(model_spec(model).class_names) == ["Jumping", "SitDown", "StandUp"]
    card = (out_dir / "rnn.md").read_text()
    for fact in (str(own_folder), "Held-out accuracy", f"{held_out['accuracy']:.3f}", "Wilson interval",
                 "Intended use", "Limits", "broken.avi", "StandUp", "group"):
        assert fact in card, fact
    assert card.startswith("# Model card: rnn trained on my videos")
    assert json.loads((out_dir / "rnn.card.json").read_text())["held_out"]["correct"] == held_out["correct"]
    for name, row in report["classes"].items():  # the per-class table, counts as integers
        assert f"| {name} | {row['clips']} | {row['groups']} | {row['test_clips']} | {row['precision']:.3f} |" in card
    assert (out_dir / "rnn_confusion.png").stat().st_size > 0
    results = tmp_path / "results"
    assert len(list(results.glob("my videos-*/logs/rnn_group_*/train"))) == 1  # TensorBoard, under results/<dataset>

    # the same run from a notebook (the function, a `~` path this time): the same numbers, plus a TFLite file
    run = train_folder("~/my videos", model="rnn", epochs=1, num_frames=8, image_size=16, output=tmp_path / "nb",
                       export="tflite", progress=False, verbose=0)
    assert run.report["held_out"] == held_out and run.report["classes"] == report["classes"]
    export = Path(run.report["files"]["export"])
    assert export.is_file() and Path(f"{export}.json").is_file()
    sidecar = json.loads(Path(f"{export}.json").read_text())  # the export carries the model's card
    trained_on = f"my videos (`{own_folder}`): 18 clips of 3 classes in 9 groups (recordings)"
    assert sidecar["card"]["trained_on"] == trained_on
    assert len(cards) == 2 and all(sidecar["card"][key] == cards[1][key] for key in ("split", "seed_spread"))


def test_a_class_left_with_too_few_clips_stops_the_run_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HAR_HOME", str(tmp_path))
    root = tmp_path / "few"
    for cls, n in (("Wave", 4), ("Clap", 2)):
        (root / cls).mkdir(parents=True)
        for i in range(n):
            write_video(root / cls / f"{cls}_{i}.avi", numbered_frames(12, size=16))
    (root / "Clap" / "bad.avi").write_text("garbage")
    assert main(["train", str(root), *TINY]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and "Clap has 2 of 3" in err[-1] and "Wave" not in err[-1]
    assert sum("bad.avi" in line for line in err) == 1  # the summary; the error names the class, not the file


def test_bad_arguments_exit_2(capsys):
    for bad in (["--model", "resnet"], ["--epochs", "0"], ["--test-size", "1"]):
        argv = ["train", "x", *bad]
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2
        assert capsys.readouterr().err.startswith("error: ")


def test_recipes_are_the_notebooks_settings(monkeypatch):
    """Each model trains with its notebook's config cell (epochs, batch, patience; the hybrid's alpha)."""
    from scripts.notebook_source import notebook_config

    monkeypatch.setenv("HAR_QUICK", "0")  # the full profile's budgets, whatever an earlier test's setup() left

    for name, (builder, options, epochs, batch_size, patience, notebook) in RECIPES.items():
        cfg = notebook_config(ROOT / "notebooks" / f"{notebook}.ipynb")
        assert (epochs, batch_size, patience) == (cfg["EPOCHS"], cfg["BATCH_SIZE"], cfg["PATIENCE"]), name
        assert options == ({"alpha": cfg["ALPHA"]} if name == "hybrid" else {}), name
        assert cfg.get("OPTIMIZER", "Adam") == "Adam" and cfg.get("AUGMENT") is None
        assert f"def {builder}(" in (ROOT / "helpers" / "paper_models.py").read_text()
