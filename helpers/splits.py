"""Train/test splits and the split protocols of the experiments.

* :func:`split_by_group` (honest: no UCF group on both sides) and
  :func:`split_random_clip_leaky` (the paper's split, which leaks groups).
* :func:`leave_one_group_out`: UCF50's protocol (UCF101's official splits are
  :func:`helpers.ucf.official_split`).
* :func:`protocol_split` turns a protocol name into train/validation/test indices (a :class:`Split`):

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
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.ucf import official_split, video_groups

PROTOCOLS = ("random_clip", "group")  # the two every notebook reports
ALL_PROTOCOLS = (*PROTOCOLS, "logo", "official")


def split_by_group(video_files_paths: Sequence[str | os.PathLike], *, test_size: float = 0.25, seed: int = 27,
                   held_out: str = "test") -> tuple[np.ndarray, np.ndarray]:
    """Train/test indices with no group on both sides (the honest protocol), stratified by class.

    Clips of one group are cut from the same long video; whole groups (by group
    number, across all classes, as UCF101's official splits do) go to the test side.
    Where no group number spans two classes (own videos: untagged files, each its own group),
    ``test_size`` of each class's groups are drawn, so the share and the classes come out as asked.
    Otherwise the groups are drawn at random; then, only where a class ended up on one side while
    its groups allow both, a group is moved so that every class is trained and tested
    (on UCF, where every class has every group number, nothing moves). A class that
    cannot be on both sides (one group) is kept in training, with one warning line
    saying so and what to do. Classes are the clips' folder names (``<root>/<Class>/<file>``).

    Args:
        video_files_paths: Clip paths; names carry ``_gNN_cNN`` (a file without it is its own group,
            see :func:`helpers.ucf.video_groups`).
        test_size: Fraction of the groups held out (at least one group).
        seed: Seed of the group shuffle.
        held_out: What the held-out side is for (``"test"``, ``"validation"``), named in messages.

    Returns:
        ``(train_idx, test_idx)``, sorted int64 arrays.

    Raises:
        ValueError: Fewer than 2 groups (the message names the split and the fix).
    """
    classes = np.array([Path(p).parent.name for p in video_files_paths])
    return _split_groups(video_groups(video_files_paths), classes, test_size=test_size, seed=seed, held_out=held_out)


def _one_sided(test: set, class_groups: dict[str, set]) -> int:
    """How many classes a group split leaves on one side although they need not be (plus 1-group classes in test)."""
    return sum(len(gs) == 1 and gs <= test or len(gs) > 1 and (gs <= test or not gs & test)
               for gs in class_groups.values())


def _split_groups(groups: np.ndarray, classes: np.ndarray, *, test_size: float, seed: int, held_out: str,
                  total: int | None = None, warn_single: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """:func:`split_by_group` on group numbers ``(num_clips,)`` and class names ``(num_clips,)``.

    ``warn_single=False`` leaves out the "class X has 1 group" line (the validation split of
    :func:`protocol_split`: the test split already said it, or the class's other groups are tested).
    """
    unique = np.unique(groups)
    if len(unique) < 2:
        where = f" in the training part (the dataset has {total} in all)" if total is not None else ""
        raise ValueError(f"the {held_out} split holds out whole groups (recordings) and needs at least 2 groups"
                         f"{where}, found {len(unique)}: add clips from more recordings (another _gNN_ in the file "
                         "names, or files without the tag, each its own group) or use protocol='random_clip'")
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1), got {test_size}")
    order = np.random.default_rng(seed).permutation(unique)
    class_groups = {c: set(groups[classes == c].tolist()) for c in sorted(set(classes.tolist()))}
    test = _per_class_draw(order, class_groups, test_size=test_size)
    if test is None:  # group numbers shared between classes (UCF): draw whole group numbers
        n_test = min(max(1, round(test_size * len(unique))), len(unique) - 1)
        test = set(order[:n_test].tolist())
        # stratify: move one group at a time (in draw order) while that leaves fewer classes on one side
        bad = _one_sided(test, class_groups)
        while bad:
            moves = ((test ^ {group}) for group in order.tolist())
            better = next((c for c in moves if 0 < len(c) < len(unique) and _one_sided(c, class_groups) < bad), None)
            if better is None:
                break
            test, bad = better, _one_sided(better, class_groups)
    for name, gs in class_groups.items():
        side = f"the {held_out} split" if gs <= test else "training"
        if len(gs) == 1:
            if warn_single:
                warnings.warn(f"class {name} has 1 group: it can only be in {side}; add clips from "
                              f"another recording (group) or drop the class", stacklevel=3)
        elif gs <= test or not gs & test:
            warnings.warn(f"class {name}: its {len(gs)} groups are all in {side} (their group numbers are shared "
                          "with other classes); give it clips with other group numbers or drop the class",
                          stacklevel=3)
    is_test = np.isin(groups, list(test))
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def _per_class_draw(order: np.ndarray, class_groups: dict[str, set], *, test_size: float) -> set | None:
    """Held-out groups drawn class by class when no group spans two classes (own videos: untagged files, or
    tags numbered per class); None where one does (UCF: g01 in every class) or no class has 2 groups.

    Every class with >= 2 groups gets between 1 and all but one of them held out, ``test_size`` of the groups in
    all (largest remainders, so 3 untagged files of each of 2 classes at 0.25 give 1 of each, not 3 of 6).
    """
    sizes = {c: len(gs) for c, gs in class_groups.items()}
    if sum(sizes.values()) != len(order) or max(sizes.values()) < 2:
        return None
    quota = {c: test_size * n for c, n in sizes.items() if n >= 2}
    counts = {c: min(max(1, int(q)), sizes[c] - 1) for c, q in quota.items()}
    target = round(test_size * sum(sizes[c] for c in quota))
    while sum(counts.values()) < target:
        open_ = [c for c in quota if counts[c] < sizes[c] - 1]
        if not open_:
            break
        best = max(open_, key=lambda c: quota[c] - counts[c])  # ties: the first class in name order
        counts[best] += 1
    rank = {g: i for i, g in enumerate(order.tolist())}
    return {g for c, k in counts.items() for g in sorted(class_groups[c], key=rank.__getitem__)[:k]}


def split_random_clip_leaky(num_clips: int | Sequence, *, test_size: float = 0.25, seed: int = 27
                            ) -> tuple[np.ndarray, np.ndarray]:
    """The paper's clip-level random split. **Leaks**: clips of one group (same long
    video, same actor and background) land on both sides, so a test clip's scene may have been
    seen in training: a model that matches scenes scores higher than on held-out groups (notebook
    09's memoriser), one that recognises the action need not (its LRCN does not, on the embedded data).

    Kept only to reproduce the paper's protocol and measure what the leak does to each model.

    Args:
        num_clips: Number of clips, or the sequence of clip paths.
        test_size: Fraction of clips held out.
        seed: Seed of the shuffle.

    Returns:
        ``(train_idx, test_idx)``, sorted int64 arrays.
    """
    n = num_clips if isinstance(num_clips, int) else len(num_clips)
    order = np.random.default_rng(seed).permutation(n)
    n_test = int(np.ceil(test_size * n))
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def leave_one_group_out(video_files_paths: Sequence[str | os.PathLike]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Leave-one-group-out folds, UCF50's protocol (25 folds on the full dataset).

    Fold k tests on every clip of the k-th group number (all classes together, as the
    UCF50 protocol and UCF101's splits do) and trains on the rest, so no group is ever
    on both sides and every group is tested exactly once. The group of a fold is
    ``video_groups(video_files_paths)[test_idx[0]]``. Report the mean over the folds.

    Args:
        video_files_paths: Paths whose names carry ``_gNN_cNN`` (e.g. from :func:`create_dataset`); a name
            without it is its own group.

    Returns:
        An iterator over ``(train_idx, test_idx)``, sorted int64 arrays, in increasing group order.

    Raises:
        ValueError: Fewer than 2 groups (raised at once).
    """
    groups = video_groups(video_files_paths)
    unique = np.unique(groups)
    if len(unique) < 2:
        raise ValueError(f"leave-one-group-out needs at least 2 groups, found {len(unique)}")

    def folds() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for group in unique:
            is_test = groups == group
            yield np.flatnonzero(~is_test), np.flatnonzero(is_test)

    return folds()


@dataclass(frozen=True)
class Split:
    """Indices into the dataset for one protocol."""

    protocol: str
    train_idx: np.ndarray
    val_idx: np.ndarray
    test_idx: np.ndarray

    def shared_groups(self, video_files_paths: Sequence[str]) -> set[int]:
        """Group numbers present in both the training (incl. validation) and the test side."""
        groups = video_groups(video_files_paths, warn=False)
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
        groups = video_groups(video_files_paths)
        classes = np.array([Path(p).parent.name for p in video_files_paths])
        if protocol == "group":
            fit_idx, test_idx = _split_groups(groups, classes, test_size=test_size, seed=seed, held_out="test")
        elif protocol == "logo":
            folds = list(leave_one_group_out(video_files_paths))
            if not 1 <= fold <= len(folds):
                raise ValueError(f"logo fold must be in 1..{len(folds)}, got {fold}")
            fit_idx, test_idx = folds[fold - 1]
        else:
            if dataset_dir is None:
                raise ValueError("the official protocol needs dataset_dir (the UCF101 folder)")
            fit_idx, test_idx = official_split(dataset_dir, split=fold).indices(video_files_paths)
        inner_train, inner_val = _split_groups(groups[fit_idx], classes[fit_idx], test_size=val_size, seed=seed + 1,
                                               held_out="validation", total=len(np.unique(groups)), warn_single=False)
        train_idx, val_idx = fit_idx[inner_train], fit_idx[inner_val]
    else:
        raise ValueError(f"unknown protocol {protocol!r}; choose from {ALL_PROTOCOLS}")
    return Split(protocol, train_idx, val_idx, test_idx)
