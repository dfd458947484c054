"""One experiment = one model trained and tested under one split protocol.

Notebooks 01 and 02 show these steps on screen; notebooks 03 and 05 run them through
:func:`run_experiment`. The protocols:

* ``"random_clip"`` — the paper's protocol: a clip-level random 75/25 split and Keras'
  ``validation_split=0.2`` (the last 20 % of the training clips). **Leaks** UCF groups.
* ``"group"`` — the honest protocol: whole groups held out for test, and whole groups
  of the training part held out for validation (early stopping never sees test groups).
* ``"logo"`` — one fold of leave-one-group-out (UCF50's literature protocol): ``fold`` picks
  the held-out group.
* ``"official"`` — UCF101's official split ``fold`` (1-3), read from its split files.

In every protocol but ``random_clip``, validation is whole groups of the training part.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from helpers import cards
from helpers.config import Paths, set_seed
from helpers.dataset import create_dataset, list_videos
from helpers.evaluation import Evaluation, evaluate
from helpers.results import record_dataset
from helpers.splits import ALL_PROTOCOLS, PROTOCOLS, Split, protocol_split  # noqa: F401 (re-exported)
from helpers.synthetic import GENERATOR_VERSION, embedded_settings, generate_dataset, rendered_version
from helpers.training import Features, run_folders, take, train
from helpers.ucf import video_groups

#: The 4 UCF50 classes paper 001 trained on; picked by default when the dataset has them.
UCF50_PAPER_CLASSES = ("WalkingWithDog", "TaiChi", "Swing", "HorseRace")
#: What each protocol holds out, for model cards.
PROTOCOL_TEXT = {
    "group": "whole groups (clips of one long video) held out for the test, and whole groups of the rest for "
             "validation (early stopping)",
    "random_clip": "the paper's clip-level random split: clips of one group on both sides, so the held-out "
                   "accuracy overstates the accuracy on unseen actors and scenes",
    "logo": "leave-one-group-out: one group held out for the test",
    "official": "UCF101's official train/test split",
}
#: Columns of ``results/paper001.csv``.
PAPER001_COLUMNS = ("model", "protocol", "loss", "accuracy", "ms_per_step")


@dataclass
class ClipData:
    """A dataset extracted into memory (or a memmap): what every training notebook starts from."""

    features: np.ndarray  # uint8 (num_clips, num_frames, image_size, image_size, 3)
    labels: np.ndarray  # int (num_clips,)
    video_files_paths: list[str]  # (num_clips,), names carry the UCF group ``_gNN_``
    class_names: list[str]
    dataset_dir: Path

    def __repr__(self) -> str:
        return (f"ClipData({self.dataset_dir}: {self.features.shape[0]} clips of {self.features.shape[1:]}, "
                f"{len(self.class_names)} classes)")


def _num_groups(video_files_paths: Sequence) -> int:
    """Distinct groups among the clips (``_gNN_``; a file without the tag is its own group)."""
    return len(np.unique(video_groups(video_files_paths, warn=False)))


def load_clips(paths: Paths, *, class_names: Sequence[str] | None = None, num_frames: int = 20,
               image_size: int = 64, seed: int = 27, quick: bool | None = None,
               prefer_classes: Sequence[str] | None = UCF50_PAPER_CLASSES) -> ClipData:
    """Render the embedded dataset if it is the one in use, extract (cached) and record which data was used.

    Args:
        paths: From :func:`helpers.config.setup` (``HAR_DATASET_DIR`` selects a real dataset).
        class_names: Classes to use; None: every class folder, or ``prefer_classes`` when the
            dataset has all of them (UCF50 -> paper 001's 4 classes).
        num_frames, image_size: Sampling, as in :func:`helpers.data.create_dataset`.
        seed: Seed of the embedded dataset's rendering.
        quick: Render the small quick-profile embedded dataset; None (default): ``paths.quick``,
            which :func:`helpers.config.setup` sets from the notebook's ``QUICK``. A value that
            disagrees with ``paths`` is refused: it would render one profile into the other's folders.
        prefer_classes: See ``class_names``; None to always take every class.

    Returns:
        A :class:`ClipData`; ``results_dir/dataset.json`` says which data produced the tables.
    """
    dataset_dir = Path(paths.dataset_dir)
    if quick is not None and bool(quick) != paths.quick:
        raise ValueError(f"quick={quick} but paths are the {'quick' if paths.quick else 'full'} profile's; "
                         "pass the same QUICK to setup(quick=...) and load_clips")
    quick = paths.quick
    if paths.embedded:
        generate_dataset(dataset_dir, seed=seed, **embedded_settings(quick=quick))
    elif class_names is None and prefer_classes and all((dataset_dir / c).is_dir() for c in prefer_classes):
        class_names = list(prefer_classes)
    features, labels, video_files_paths = create_dataset(dataset_dir, class_names=class_names, num_frames=num_frames,
                                                         image_size=image_size, cache_dir=paths.cache_dir)
    names, _, _ = list_videos(dataset_dir, class_names=class_names)
    record_dataset(paths.results_dir, dataset_dir=dataset_dir, embedded=paths.embedded, class_names=names,
                   num_clips=len(labels), num_frames=num_frames, image_size=image_size,
                   num_groups=_num_groups(video_files_paths),
                   generator_version=GENERATOR_VERSION if paths.embedded else None)
    return ClipData(features, labels, [str(p) for p in video_files_paths], list(names), dataset_dir)


@dataclass
class RunResult:
    """A trained model, its history and its test evaluation."""

    model: keras.Model
    history: dict
    evaluation: Evaluation
    split: Split
    train_seconds: float
    epochs_run: int


def run_experiment(build: Callable[[], keras.Model], features: Features, labels: np.ndarray,
                   split: Split, *, class_names: Sequence[str], epochs: int, batch_size: int, patience: int,
                   seed: int = 27, verbose: int | str = 2,
                   optimizer: str | Callable[[], keras.optimizers.Optimizer] = "adam",
                   metrics: Sequence = ("accuracy",), augment: str | None = None,
                   results_dir: str | Path | None = None, run_name: str | None = None) -> RunResult:
    """Seed, build, train (early stopping on validation), then evaluate on the test side.

    Args:
        build: Zero-argument model builder (seeded right before it is called).
        features: uint8 ``(num_clips, num_frames, height, width, 3)``, or a dict of inputs
            (``{"clip": clips, "flow": flow}`` for the two-stream model).
        labels: int ``(num_clips,)``.
        split: From :func:`protocol_split`.
        class_names: Label names, stored in the model.
        epochs, batch_size, patience: Training settings.
        seed: Seed set right before the model is built.
        verbose: Keras verbosity of ``fit``.
        optimizer, metrics: Passed to :func:`helpers.training.train` (notebook 03 compares optimizers
            and reports paper 000's metrics).
        augment: Training-set augmentation (:data:`helpers.training.AUGMENTATIONS`); None
            (the papers' code) by default.
        results_dir: With it, a TensorBoard log and a BackupAndRestore backup go under
            ``results_dir/logs/<run_name>`` and ``results_dir/backup/<run_name>``
            (:func:`helpers.training.run_folders`): a run interrupted and called again resumes.
        run_name: Names the run's folders; None: the model's name, the protocol and a hash of
            the model, its settings and the split, so that no other run picks up its backup.
    """
    set_seed(seed)
    model = build()
    folders = {}
    if results_dir is not None:
        described = optimizer if isinstance(optimizer, str) else keras.optimizers.serialize(optimizer())
        settings = [model.to_json(), described, epochs, batch_size, patience, seed, augment,
                    [str(getattr(m, "name", m)) for m in metrics], split.train_idx.tolist(), split.val_idx.tolist()]
        digest = hashlib.sha1(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:10]
        folders = run_folders(results_dir, run_name or f"{model.name}_{split.protocol}_{digest}")
    start = time.perf_counter()
    history = train(model, (take(features, split.train_idx), labels[split.train_idx]),
                    validation_data=(take(features, split.val_idx), labels[split.val_idx]),
                    epochs=epochs, batch_size=batch_size, patience=patience, seed=seed, verbose=verbose,
                    optimizer=optimizer, metrics=metrics, augment=augment, **folders)
    seconds = time.perf_counter() - start
    evaluation = evaluate(model, (take(features, split.test_idx), labels[split.test_idx]), class_names=class_names)
    return RunResult(model, history.history, evaluation, split, seconds, len(history.history["loss"]))


def model_card(model: keras.Model, *, data: ClipData, split: Split, held_out: Evaluation | tuple,
               results_dir: str | Path | None = None) -> dict:
    """The model card of ``model`` trained on ``data`` under ``split`` (:mod:`helpers.cards`), for
    :func:`helpers.models.save_model`'s ``card``.

    Args:
        model: The trained model (its name finds its rows in ``results_dir/seeds.csv``).
        data: From :func:`load_clips`.
        split: The split it was trained and tested on.
        held_out: Its :class:`helpers.evaluation.Evaluation` on ``split``'s test clips, or ``(y_true, y_pred)``,
            each ``(num_test_clips,)``.
        results_dir: With it, the seed spread from ``seeds.csv`` there (``make seeds``), when it has rows of
            this model under this protocol.
    """
    y_true, y_pred = (held_out.y_true, held_out.y_pred) if isinstance(held_out, Evaluation) else held_out
    if len(y_true) != len(split.test_idx):
        raise ValueError(f"held_out has {len(y_true)} clips, the split tests {len(split.test_idx)}")
    described = cards.describe_data(dataset_dir=data.dataset_dir, class_names=data.class_names,
                                    num_clips=len(data.labels), num_groups=_num_groups(data.video_files_paths),
                                    generator_version=rendered_version(data.dataset_dir))
    embedded, dataset = described["data"]["embedded"], described["data"]["dataset"]
    what = ", ".join(data.class_names)
    return {
        **described,
        "protocol": f"{split.protocol}: {PROTOCOL_TEXT.get(split.protocol, split.protocol)}",
        "split": {"protocol": split.protocol, "train": len(split.train_idx), "validation": len(split.val_idx),
                  "test": len(split.test_idx)},
        "held_out": cards.held_out(y_true, y_pred),
        "seed_spread": None if results_dir is None else cards.seed_spread(Path(results_dir) / "seeds.csv",
                                                                          model=model.name, protocol=split.protocol),
        "intended_use": ("Checking that the code runs, and the questions the embedded dataset was made for (does a "
                         f"split leak, does a model read frame order); it labels clips as one of {what}."
                         if embedded else f"Telling {what} apart in videos like those of {dataset}: "
                         "`python -m helpers classify VIDEO --model FILE`."),
        "limits": cards.limits(embedded=embedded,
                               where=f"the held-out groups of {'the embedded dataset' if embedded else dataset}"),
    }
