"""Model cards (Mitchell et al., "Model Cards for Model Reporting", 2019): what a saved model was trained on,
how it was tested and what it is for, beside the model.

``lrcn.keras`` gets ``lrcn.card.json`` (the card, machine-readable: the source of truth, with the model
file's SHA-256) and ``lrcn.md`` (rendered from it), both written atomically by :func:`write_card`, which
:func:`helpers.models.save_model` calls for every model it saves. An export carries the card in its sidecar
(``lrcn.tflite.json``, key ``card``, :func:`helpers.deploy.export_model`). :func:`read_card` reads either;
``classify --json`` reports its ``trained_on``.

The card's keys: ``model``, ``file``, ``sha256``, ``description`` (one line), ``trained_on`` (one line,
None when unknown), ``data`` (dataset, folder, ``generator_version`` when rendered by
:mod:`helpers.synthetic`, classes, clips, groups), ``protocol``, ``split`` (clips per side), ``held_out``
(:func:`held_out`: accuracy, its Wilson interval), ``seed_spread`` (:func:`seed_spread`), ``intended_use``,
``limits`` (sentences; the first is the one ``classify`` prints), optionally ``table`` (Markdown appended).
:func:`refresh_seed_spread` adds the seed spread that ``make seeds`` measures after the model was saved.

Nothing here imports TensorFlow, Keras or pandas (``classify`` reads cards on the TF-free path).
"""

from __future__ import annotations

import csv
import json
import os
import statistics
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

from helpers.atomic import write_text
from helpers.runtime import file_sha256, metadata_path, read_metadata

CARD_SUFFIX = ".card.json"
#: The first limit of every model trained on the embedded dataset (``docs/datasheet.md``).
RENDERED_CLIPS = ("Trained on rendered clips: it does not recognise real human actions until trained on UCF50 or "
                  "your own videos (`python -m helpers train FOLDER`; docs/datasheet.md).")
_TITLE = "# Model card"


def card_path(model_path: str | os.PathLike) -> Path:
    """``lrcn.keras`` -> ``lrcn.card.json``."""
    return Path(model_path).with_suffix(CARD_SUFFIX)


def markdown_path(model_path: str | os.PathLike) -> Path:
    """``lrcn.keras`` -> ``lrcn.md``."""
    return Path(model_path).with_suffix(".md")


def check_markdown_target(model_path: str | os.PathLike) -> None:
    """Refuse (before anything is written) to replace a ``<model>.md`` that is not a model card."""
    md = markdown_path(model_path)
    if md.is_file() and not md.read_text(encoding="utf-8", errors="replace").startswith(_TITLE):
        raise ValueError(f"{md}: exists and is not a model card; move it, or save the model under another name")


def describe_data(*, dataset_dir: str | os.PathLike, class_names: Sequence[str], num_clips: int, num_groups: int,
                  generator_version: int | None) -> dict:
    """The card's ``data`` and ``trained_on`` (one line a user reads next to a prediction), as
    ``{"trained_on": ..., "data": ...}``.

    ``generator_version`` (:func:`helpers.synthetic.rendered_version` of the folder): not None for the
    embedded dataset, which the notebooks use unless told otherwise.
    """
    embedded = generator_version is not None
    name = (f"the embedded dataset (rendered stick-figure clips, generator version {generator_version})" if embedded
            else f"{Path(dataset_dir).name} (`{dataset_dir}`)")
    data = {"dataset": name, "dataset_dir": str(dataset_dir), "embedded": embedded,
            "generator_version": generator_version, "class_names": list(class_names), "num_classes": len(class_names),
            "num_clips": int(num_clips), "num_groups": int(num_groups)}
    return {"trained_on": f"{name}: {int(num_clips)} clips of {len(class_names)} classes in {int(num_groups)} groups",
            "data": data}


def held_out(y_true: Sequence[int], y_pred: Sequence[int]) -> dict:
    """Held-out accuracy of ``y_pred`` ``(num_clips,)`` against ``y_true`` with its 95 % Wilson interval."""
    import numpy as np

    from helpers.stats import ALPHA, accuracy_interval  # statsmodels: only when a card is made

    accuracy, low, high = accuracy_interval(np.asarray(y_true), np.asarray(y_pred))
    return {"accuracy": accuracy, "correct": int(np.sum(np.asarray(y_true) == np.asarray(y_pred))),
            "clips": len(y_true), "ci_low": low, "ci_high": high, "confidence": 1 - ALPHA, "interval": "Wilson"}


def seed_spread(seeds_csv: str | os.PathLike, *, model: str, protocol: str) -> dict | None:
    """Accuracy over the seeds of ``model`` under ``protocol`` in ``results/seeds.csv`` (``make seeds``); None
    without two such rows."""
    path = Path(seeds_csv)
    if not path.is_file():
        return None
    with path.open(newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r.get("model") == model and r.get("protocol", "group") == protocol]
    if len(rows) < 2:
        return None
    accuracies = [float(r["accuracy"]) for r in rows]
    return {"source": path.name, "protocol": protocol, "seeds": [int(r["seed"]) for r in rows],
            "accuracies": accuracies, "mean": statistics.mean(accuracies), "std": statistics.stdev(accuracies),
            "min": min(accuracies), "max": max(accuracies)}


def refresh_seed_spread(model_path: str | os.PathLike, seeds_csv: str | os.PathLike) -> dict | None:
    """Rewrite a model's card with the seed spread now in ``seeds_csv``: ``make seeds`` runs after the notebooks
    saved their models. Returns the spread (None: no card, no protocol in it, or fewer than two rows)."""
    card = read_card(model_path)
    protocol = ((card or {}).get("split") or {}).get("protocol")
    spread = seed_spread(seeds_csv, model=card["model"], protocol=protocol) if protocol else None
    if spread is not None and spread != card.get("seed_spread"):
        write_card(model_path, {**card, "seed_spread": spread})
    return spread


def limits(*, embedded: bool, where: str) -> list[str]:
    """The limits every card states; ``where`` names the videos the held-out accuracy holds for."""
    first = [RENDERED_CLIPS] if embedded else []
    return [*first, f"The held-out accuracy holds for videos like {where}, not for other cameras, scenes or people; "
            "with few test clips its interval is wide.",
            "Every video gets one of these labels: there is no \"none of these\".",
            "Not for decisions about people (surveillance, hiring, health) without a study of its errors on them."]


def write_card(model_path: str | os.PathLike, card: Mapping) -> Path:
    """Write ``<model>.card.json`` (with the model file's SHA-256) and ``<model>.md``, each atomically; returns the
    JSON's path."""
    model_path = Path(model_path)
    check_markdown_target(model_path)
    card = {**card, "file": model_path.name, "sha256": file_sha256(model_path)}
    write_text(card_path(model_path), json.dumps(card, indent=1, default=float) + "\n")
    write_text(markdown_path(model_path), render_markdown(card))
    return card_path(model_path)


def read_card(model_path: str | os.PathLike) -> dict | None:
    """The card of a ``.keras`` model (``<model>.card.json``) or of an export (its sidecar's ``card``); None when
    there is none, or (with a warning) when it describes another file than ``model_path``."""
    model_path = Path(model_path)
    if model_path.suffix != ".keras":
        return _checked(read_metadata(model_path).get("card"), where=metadata_path(model_path))
    path = card_path(model_path)
    if not path.is_file():
        return None
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        warnings.warn(f"{path}: unreadable model card ({type(err).__name__}: {err}); ignored", stacklevel=2)
        return None
    if not isinstance(card, dict) or card.get("sha256") != file_sha256(model_path):
        warnings.warn(f"{path}: describes another file than {model_path.name} (SHA-256 differs); ignored",
                      stacklevel=2)
        return None
    return _checked(card, where=path)


def _checked(card: dict | None, *, where: Path) -> dict | None:
    """``card`` if the fields a reader prints have their types (``trained_on`` text, ``limits`` a list of
    texts), else None with a warning: a hand-edited card never breaks ``classify``."""
    if card is None:
        return None
    limits = card.get("limits")
    if not (isinstance(card.get("trained_on"), str | None)
            and (limits is None or (isinstance(limits, list) and all(isinstance(x, str) for x in limits)))):
        warnings.warn(f"{where}: model card with a malformed trained_on or limits; ignored", stacklevel=3)
        return None
    return card


def _held_out_text(acc: Mapping | None) -> str:
    if not acc:
        return "not recorded (the model was saved without its test predictions)"
    return (f"{acc['accuracy']:.3f} ({acc['correct']} of {acc['clips']} test clips), {acc['confidence']:.0%} "
            f"{acc['interval']} interval {acc['ci_low']:.3f}-{acc['ci_high']:.3f}")


def _spread_text(spread: Mapping | None) -> str:
    if not spread:
        return "not measured (one seed; `make seeds` retrains the notebooks' models over five)"
    return (f"{len(spread['seeds'])} seeds ({', '.join(map(str, spread['seeds']))}) under {spread['protocol']}: mean "
            f"{spread['mean']:.3f}, standard deviation {spread['std']:.3f}, range {spread['min']:.3f}-"
            f"{spread['max']:.3f} (`results/{spread['source']}`)")


def render_markdown(card: Mapping) -> str:
    """The card as Markdown (``<model>.md``)."""
    data = card.get("data") or {}
    split = card.get("split")
    protocol = card.get("protocol") or "not recorded"
    if split:
        protocol += f". Clips: {split['train']} training, {split['validation']} validation, {split['test']} test."
    trained_on = card.get("trained_on") or "not recorded (the model was saved without a description of its data)"
    if data.get("skipped") is not None:
        trained_on += f"; files that could not be decoded, skipped: {'; '.join(data['skipped']) or 'none'}"
    bullets = {"Model": card.get("description", f"`{card.get('model')}`"), "Data": trained_on, "Protocol": protocol,
               "Held-out accuracy": _held_out_text(card.get("held_out")),
               "Seed spread": _spread_text(card.get("seed_spread")),
               "Intended use": card.get("intended_use") or "not recorded",
               "Limits": " ".join(card.get("limits") or ["not recorded"])}
    where = f" trained on {data['dataset']}" if data.get("dataset") else ""
    lines = [f"{_TITLE}: {card.get('model')}{where}", "", *(f"* **{k}**: {v}" for k, v in bullets.items())]
    if card.get("table"):
        lines += ["", card["table"].rstrip("\n")]
    return "\n".join(lines) + "\n"
