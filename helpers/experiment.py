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

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from helpers.config import Paths, set_seed
from helpers.data import (
    create_dataset,
    leave_one_group_out,
    list_videos,
    official_split,
    split_by_group,
    split_random_clip_leaky,
    video_group,
)
from helpers.evaluation import Evaluation, evaluate
from helpers.results import record_dataset
from helpers.synthetic import GENERATOR_VERSION, embedded_settings, generate_dataset
from helpers.training import Features, take, train

PROTOCOLS = ("random_clip", "group")  # the two every notebook reports
ALL_PROTOCOLS = (*PROTOCOLS, "logo", "official")
#: The 4 UCF50 classes paper 001 trained on; picked by default when the dataset has them.
UCF50_PAPER_CLASSES = ("WalkingWithDog", "TaiChi", "Swing", "HorseRace")
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


def _num_groups(video_files_paths: Sequence) -> int | None:
    """Distinct UCF groups (``_gNN_``) among the clips; None when a file name carries no group tag."""
    try:
        return len({video_group(p) for p in video_files_paths})
    except ValueError:
        return None


def load_clips(paths: Paths, *, class_names: Sequence[str] | None = None, num_frames: int = 20,
               image_size: int = 64, seed: int = 27, quick: bool = False,
               prefer_classes: Sequence[str] | None = UCF50_PAPER_CLASSES) -> ClipData:
    """Render the embedded dataset if it is the one in use, extract (cached) and record which data was used.

    Args:
        paths: From :func:`helpers.config.setup` (``HAR_DATASET_DIR`` selects a real dataset).
        class_names: Classes to use; None: every class folder, or ``prefer_classes`` when the
            dataset has all of them (UCF50 -> paper 001's 4 classes).
        num_frames, image_size: Sampling, as in :func:`helpers.data.create_dataset`.
        seed: Seed of the embedded dataset's rendering.
        quick: Render the small quick-profile embedded dataset.
        prefer_classes: See ``class_names``; None to always take every class.

    Returns:
        A :class:`ClipData`; ``results_dir/dataset.json`` says which data produced the tables.
    """
    dataset_dir = Path(paths.dataset_dir)
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


@dataclass(frozen=True)
class Split:
    """Indices into the dataset for one protocol."""

    protocol: str
    train_idx: np.ndarray
    val_idx: np.ndarray
    test_idx: np.ndarray

    def shared_groups(self, video_files_paths: Sequence[str]) -> set[int]:
        """Group numbers present in both the training (incl. validation) and the test side."""
        groups = np.array([video_group(p) for p in video_files_paths])
        fit_side = np.concatenate([self.train_idx, self.val_idx])
        return set(groups[fit_side].tolist()) & set(groups[self.test_idx].tolist())


def protocol_split(video_files_paths: Sequence[str], *, protocol: str, test_size: float = 0.25,
                   val_size: float = 0.2, seed: int = 27, fold: int = 1,
                   dataset_dir: str | os.PathLike | None = None) -> Split:
    """Train/validation/test indices for ``protocol`` (``"random_clip"`` or ``"group"``).

    Args:
        video_files_paths: Clip paths in dataset order (names carry ``_gNN_cNN``).
        protocol: ``"random_clip"`` (paper, leaky), ``"group"`` (honest), ``"logo"`` or ``"official"``.
        test_size: Fraction of clips (random_clip) or groups (group) held out for test.
        val_size: Fraction of the training part used for validation / early stopping.
        seed: Seed of the splits (27 as in the paper's code).
        fold: ``logo``: 1-based index of the held-out group in sorted order; ``official``: split 1-3.
        dataset_dir: ``official`` only: the UCF101 folder (split files beside or inside it).
    """
    if protocol == "random_clip":
        fit_idx, test_idx = split_random_clip_leaky(list(video_files_paths), test_size=test_size, seed=seed)
        # Keras' validation_split takes the *last* fraction of the (shuffled) training arrays
        order = np.random.default_rng(seed).permutation(fit_idx)
        n_val = int(round(val_size * len(order)))
        train_idx, val_idx = np.sort(order[: len(order) - n_val]), np.sort(order[len(order) - n_val:])
    elif protocol in ("group", "logo", "official"):
        if protocol == "group":
            fit_idx, test_idx = split_by_group(video_files_paths, test_size=test_size, seed=seed)
        elif protocol == "logo":
            folds = list(leave_one_group_out(video_files_paths))
            if not 1 <= fold <= len(folds):
                raise ValueError(f"logo fold must be in 1..{len(folds)}, got {fold}")
            fit_idx, test_idx = folds[fold - 1]
        else:
            if dataset_dir is None:
                raise ValueError("the official protocol needs dataset_dir (the UCF101 folder)")
            fit_idx, test_idx = official_split(dataset_dir, split=fold).indices(video_files_paths)
        inner_train, inner_val = split_by_group([video_files_paths[i] for i in fit_idx], test_size=val_size,
                                                seed=seed + 1)
        train_idx, val_idx = fit_idx[inner_train], fit_idx[inner_val]
    else:
        raise ValueError(f"unknown protocol {protocol!r}; choose from {ALL_PROTOCOLS}")
    return Split(protocol, train_idx, val_idx, test_idx)


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
                   metrics: Sequence = ("accuracy",), augment: str | None = None) -> RunResult:
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
    """
    set_seed(seed)
    model = build()
    start = time.perf_counter()
    history = train(model, (take(features, split.train_idx), labels[split.train_idx]),
                    validation_data=(take(features, split.val_idx), labels[split.val_idx]),
                    epochs=epochs, batch_size=batch_size, patience=patience, seed=seed, verbose=verbose,
                    optimizer=optimizer, metrics=metrics, augment=augment)
    seconds = time.perf_counter() - start
    evaluation = evaluate(model, (take(features, split.test_idx), labels[split.test_idx]), class_names=class_names)
    return RunResult(model, history.history, evaluation, split, seconds, len(history.history["loss"]))
