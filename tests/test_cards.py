"""Model cards (helpers.cards): written beside every saved model, read back, carried by an export's sidecar and
reported by ``classify --json`` (``trained_on``)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

from har_app.cli import main
from helpers import cards
from helpers.dataset import create_dataset
from helpers.evaluation import evaluate
from helpers.experiment import ClipData, model_card
from helpers.models import card_of, load_model, save_model
from helpers.paper_models import build_lrcn
from helpers.runtime import metadata_path
from helpers.splits import protocol_split
from helpers.stats import wilson_interval
from helpers.synthetic import GENERATOR_VERSION
from tests.conftest import numbered_frames, write_video
from tests.test_runtime import run_without_tensorflow

NUM_FRAMES, IMAGE_SIZE = 8, 64


@pytest.fixture(scope="module")
def saved(tiny_dataset, tmp_path_factory) -> dict:
    """An untrained tiny LRCN saved with the card of its held-out predictions on the tiny embedded dataset, and
    a seeds.csv with two seeds of it (and one row of another protocol, which the card must leave out)."""
    folder = tmp_path_factory.mktemp("cards")
    features, labels, paths = create_dataset(tiny_dataset, num_frames=NUM_FRAMES, image_size=IMAGE_SIZE,
                                             cache_dir=folder / "cache", progress=False)
    data = ClipData(features, labels, paths, ["Jumping", "SitDown", "StandUp"], tiny_dataset)
    split = protocol_split(paths, protocol="group", test_size=0.34, val_size=0.5, seed=27)
    keras.utils.set_random_seed(0)
    model = build_lrcn(num_classes=3, num_frames=NUM_FRAMES, image_size=IMAGE_SIZE, class_names=data.class_names)
    y_true = labels[split.test_idx]
    y_pred = model.predict(features[split.test_idx], verbose=0).argmax(axis=1)
    (folder / "seeds.csv").write_text("model,protocol,seed,accuracy,loss,seconds,settings\n"
                                      "lrcn,group,27,0.5,1.0,1.0,abc\nlrcn,group,28,0.75,1.0,1.0,abc\n"
                                      "lrcn,random_clip,27,1.0,1.0,1.0,abc\n")
    path = save_model(model, folder / "models" / "lrcn.keras",
                      card=model_card(model, data=data, split=split, held_out=(y_true, y_pred), results_dir=folder))
    return {"path": path, "model": model, "data": data, "split": split, "y_true": y_true, "y_pred": y_pred}


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    return write_video(tmp_path_factory.mktemp("video") / "clip.avi", numbered_frames(40, size=64))


def test_the_save_path_writes_a_card_beside_the_model_and_reads_it_back(saved):
    path, y_true, y_pred = saved["path"], saved["y_true"], saved["y_pred"]
    assert cards.card_path(path) == path.with_name("lrcn.card.json") and cards.card_path(path).is_file()
    card = cards.read_card(path)
    assert card == json.loads(cards.card_path(path).read_text())
    assert card["model"] == "lrcn" and card["file"] == "lrcn.keras"
    data = card["data"]
    assert data["embedded"] and data["generator_version"] == GENERATOR_VERSION  # from the folder's own marker
    assert data["class_names"] == ["Jumping", "SitDown", "StandUp"] and data["num_clips"] == len(saved["data"].labels)
    assert data["num_groups"] == 3  # distinct gNN tags, as results/dataset.json counts them
    assert card["trained_on"].startswith(f"the embedded dataset (rendered stick-figure clips, generator version "
                                         f"{GENERATOR_VERSION}): 18 clips of 3 classes")
    correct = int(np.sum(y_true == y_pred))
    assert card["held_out"]["correct"] == correct and card["held_out"]["clips"] == len(saved["split"].test_idx)
    assert (card["held_out"]["ci_low"], card["held_out"]["ci_high"]) == pytest.approx(wilson_interval(correct,
                                                                                                       len(y_true)))
    assert card["protocol"].startswith("group: whole groups")
    spread = card["seed_spread"]  # the two group rows of lrcn, not the random_clip one
    assert spread["seeds"] == [27, 28] and spread["mean"] == pytest.approx(0.625)
    assert card["limits"][0] == cards.RENDERED_CLIPS
    markdown = cards.markdown_path(path).read_text()
    assert markdown.startswith("# Model card: lrcn trained on the embedded dataset")
    for fact in ("does not recognise real human actions until trained on UCF50 or your own videos",
                 f"({correct} of {len(y_true)} test clips)", "95% Wilson interval", "2 seeds (27, 28) under group",
                 "standard deviation 0.177", "**Intended use**"):
        assert fact in markdown, fact


def test_real_data_has_no_rendered_clips_caveat_and_no_card_says_not_recorded(saved, tmp_path):
    real = ClipData(saved["data"].features, saved["data"].labels, saved["data"].video_files_paths,
                    saved["data"].class_names, tmp_path / "UCF50")  # no generator marker: real videos
    card = model_card(saved["model"], data=real, split=saved["split"], held_out=(saved["y_true"], saved["y_pred"]))
    assert not card["data"]["embedded"] and card["trained_on"].startswith("UCF50")
    assert cards.RENDERED_CLIPS not in card["limits"] and card["seed_spread"] is None
    evaluation = evaluate(saved["model"], (real.features[saved["split"].test_idx], saved["y_true"]),
                          class_names=real.class_names)  # notebooks 03 and 05 pass their Evaluation
    from_evaluation = model_card(saved["model"], data=real, split=saved["split"], held_out=evaluation)
    assert from_evaluation["held_out"] == card["held_out"]
    with pytest.raises(ValueError, match="held_out has 2 clips"):
        model_card(saved["model"], data=real, split=saved["split"], held_out=([0, 1], [0, 1]))

    bare = save_model(saved["model"], tmp_path / "bare.keras")  # no card given: says what the model carries
    card = cards.read_card(bare)
    assert card["trained_on"] is None and card["held_out"] is None
    assert "parameters; input 8 frames of 64x64 RGB; classes Jumping, SitDown, StandUp" in card["description"]
    assert "Held-out accuracy**: not recorded" in cards.markdown_path(bare).read_text()


def test_a_stale_card_or_a_foreign_markdown_file_is_never_taken_for_the_models(saved, video, tmp_path, capsys):
    path = tmp_path / "lrcn.keras"
    path.write_bytes(saved["path"].read_bytes())
    cards.card_path(path).write_text(cards.card_path(saved["path"]).read_text())
    assert cards.read_card(path)["trained_on"]
    with zipfile.ZipFile(path, "a") as archive:  # still a loadable model, but another file than the card describes
        archive.writestr("extra.txt", "changed")
    with pytest.warns(UserWarning, match="describes another file"):
        assert cards.read_card(path) is None
    assert main(["classify", str(video), "--model", str(path), "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["trained_on"] is None
    assert err.strip().splitlines() == [f"note: {cards.card_path(path)}: describes another file than lrcn.keras "
                                        "(SHA-256 differs); ignored"]

    notes = tmp_path / "notes.md"
    notes.write_text("my notes\n")
    with pytest.raises(ValueError, match="notes.md: exists and is not a model card"):
        save_model(saved["model"], tmp_path / "notes.keras")
    assert notes.read_text() == "my notes\n" and not (tmp_path / "notes.keras").exists()


def test_a_model_keeps_its_card_only_while_its_weights_are_unchanged(saved):
    model = load_model(saved["path"])
    assert card_of(model) == cards.read_card(saved["path"])
    kernel = model.get_layer("classifier").kernel
    kernel.assign(kernel.numpy() + 1.0)  # trained further: no longer the model the card describes
    assert card_of(model) is None


def test_classify_json_reports_trained_on_from_the_keras_card_and_the_tflite_sidecar(saved, video, tmp_path,
                                                                                     capsys):
    trained_on = cards.read_card(saved["path"])["trained_on"]
    assert main(["classify", str(video), "--model", str(saved["path"]), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["trained_on"] == trained_on and result["limits"][0] == cards.RENDERED_CLIPS
    assert main(["classify", str(video), "--model", str(saved["path"])]) == 0
    text = capsys.readouterr().out
    assert text.count("does not recognise real human actions") == 1 and trained_on in text

    tflite = tmp_path / "lrcn.tflite"
    assert main(["export", str(saved["path"]), "--format", "tflite", "--output", str(tflite)]) == 0
    capsys.readouterr()
    sidecar = json.loads(metadata_path(tflite).read_text())
    assert sidecar["card"] == cards.read_card(saved["path"]) and cards.read_card(tflite)["trained_on"] == trained_on
    assert main(["classify", str(video), "--model", str(tflite), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["trained_on"] == trained_on
    proc = run_without_tensorflow("classify", str(video), "--model", str(tflite), "--json", cwd=tmp_path)
    assert proc.returncode == 0 and json.loads(proc.stdout)["trained_on"] == trained_on, proc.stderr  # TF-free path

    bare = save_model(build_lrcn(num_classes=3, num_frames=NUM_FRAMES, image_size=IMAGE_SIZE),
                      tmp_path / "bare.keras", class_names=saved["data"].class_names)
    assert main(["classify", str(video), "--model", str(bare), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["trained_on"] is None and result["limits"] is None


def test_make_seeds_adds_the_seed_spread_to_a_card_written_before_it(saved, tmp_path):
    from scripts.seeds import refresh_cards

    model = saved["model"]
    path = save_model(model, tmp_path / "models" / "lrcn.keras", card=model_card(
        model, data=saved["data"], split=saved["split"], held_out=(saved["y_true"], saved["y_pred"])))
    assert cards.read_card(path)["seed_spread"] is None
    seeds_csv = tmp_path / "seeds.csv"
    seeds_csv.write_text((saved["path"].parent.parent / "seeds.csv").read_text())
    refresh_cards(seeds_csv, models=["lrcn", "cnn"])  # no cnn.keras here: nothing to refresh
    assert cards.read_card(path)["seed_spread"]["seeds"] == [27, 28]  # still the card of this very file
    assert "2 seeds (27, 28) under group" in cards.markdown_path(path).read_text()


def test_a_card_with_malformed_fields_is_ignored_with_a_warning(tmp_path):
    """A hand-edited card whose limits are not a list of texts would break classify's printing: it counts as none."""
    model = tmp_path / "m.keras"
    model.write_bytes(b"weights")
    cards.write_card(model, {"model": "m", "trained_on": "here", "limits": ["one line"]})
    assert cards.read_card(model)["limits"] == ["one line"]
    for bad in ({"limits": {"x": 1}}, {"limits": "text"}, {"trained_on": 3}):
        cards.write_card(model, {"model": "m", "trained_on": "here", "limits": ["one line"], **bad})
        with pytest.warns(UserWarning, match="malformed trained_on or limits"):
            assert cards.read_card(model) is None
