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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from helpers.ucf import official_split, video_group

PROTOCOLS = ("random_clip", "group")  # the two every notebook reports
ALL_PROTOCOLS = (*PROTOCOLS, "logo", "official")


def split_by_group(video_files_paths: Sequence[str | os.PathLike], *, test_size: float = 0.25, seed: int = 27
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Train/test indices with no UCF group on both sides (the honest protocol).

    Clips of one group are cut from the same long video; whole groups (by group
    number, across all classes, as UCF101's official splits do) go to the test side.

    Args:
        video_files_paths: Paths whose names carry ``_gNN_cNN``.
        test_size: Fraction of the groups held out (at least one group).
        seed: Seed of the group shuffle.

    Returns:
        ``(train_idx, test_idx)``, sorted int64 arrays.
    """
    groups = np.array([video_group(p) for p in video_files_paths])
    unique = np.unique(groups)
    if len(unique) < 2:
        raise ValueError(f"need at least 2 groups to split by group, found {len(unique)}")
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1), got {test_size}")
    n_test = min(max(1, round(test_size * len(unique))), len(unique) - 1)
    test_groups = np.random.default_rng(seed).permutation(unique)[:n_test]
    is_test = np.isin(groups, test_groups)
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def split_random_clip_leaky(num_clips: int | Sequence, *, test_size: float = 0.25, seed: int = 27
                            ) -> tuple[np.ndarray, np.ndarray]:
    """The paper's clip-level random split. **Leaks**: clips of one group (same long
    video, same actor and background) land on both sides, inflating test accuracy.

    Kept only to reproduce the paper's protocol and measure the inflation.

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
    ``video_group(video_files_paths[test_idx[0]])``. Report the mean over the folds.

    Args:
        video_files_paths: Paths whose names carry ``_gNN_cNN`` (e.g. from :func:`create_dataset`).

    Returns:
        An iterator over ``(train_idx, test_idx)``, sorted int64 arrays, in increasing group order.

    Raises:
        ValueError: Fewer than 2 groups, or a name without a group tag (raised at once).
    """
    groups = np.array([video_group(p) for p in video_files_paths], dtype=np.int64)
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
