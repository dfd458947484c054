"""Train/test splits: the honest group split (stratified by class; own videos without group tags) and the
paper's leaky clip split."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.dataset import create_dataset
from helpers.splits import protocol_split, split_by_group, split_random_clip_leaky
from helpers.ucf import video_group, video_groups


def test_split_by_group_never_shares_a_group(tiny_dataset):
    _, _, paths = create_dataset(tiny_dataset, num_frames=8, image_size=16, num_workers=1, progress=False)
    for seed in range(5):
        train_idx, test_idx = split_by_group(paths, test_size=0.34, seed=seed)
        assert len(train_idx) + len(test_idx) == len(paths)
        train_groups = {video_group(paths[i]) for i in train_idx}
        test_groups = {video_group(paths[i]) for i in test_idx}
        assert train_groups and test_groups and not (train_groups & test_groups)


def test_random_clip_split_is_the_leaky_one(tiny_dataset):
    _, _, paths = create_dataset(tiny_dataset, num_frames=8, image_size=16, num_workers=1, progress=False)
    train_idx, test_idx = split_random_clip_leaky(paths, test_size=0.25, seed=27)
    assert sorted(np.concatenate([train_idx, test_idx])) == list(range(len(paths)))
    assert {video_group(paths[i]) for i in train_idx} & {video_group(paths[i]) for i in test_idx}


def _names(layout: dict[str, list[int]], clips: int = 2) -> list[str]:
    """Paths ``root/<Class>/v_<Class>_gNN_cNN.avi`` for ``{class: [group numbers]}`` (no files needed)."""
    return [f"root/{c}/v_{c}_g{g:02d}_c{k:02d}.avi"
            for c, gs in layout.items() for g in gs for k in range(1, clips + 1)]


def _sides(paths: list[str], idx: np.ndarray) -> set[str]:
    return {paths[i].split("/")[1] for i in idx}


def test_group_split_is_unchanged_where_every_class_has_every_group():
    paths = _names({c: list(range(1, 9)) for c in ("A", "B", "C")})
    groups = np.array([video_group(p) for p in paths])
    for seed in range(10):  # the plain draw of whole group numbers, as before stratification
        expected = np.random.default_rng(seed).permutation(np.unique(groups))[:2]
        _, test_idx = split_by_group(paths, test_size=0.25, seed=seed)
        assert np.array_equal(test_idx, np.flatnonzero(np.isin(groups, expected)))


def test_group_split_puts_every_class_on_both_sides():
    paths = _names({"A": [1, 2, 3, 4], "B": [5, 6, 7, 8], "C": [9, 10, 11, 12]})  # own videos: no shared numbers
    for seed in range(20):
        train_idx, test_idx = split_by_group(paths, test_size=0.25, seed=seed)
        assert _sides(paths, train_idx) == _sides(paths, test_idx) == {"A", "B", "C"}
        assert not {video_group(paths[i]) for i in train_idx} & {video_group(paths[i]) for i in test_idx}


def test_a_one_group_class_stays_in_training_with_one_line_saying_so():
    paths = _names({"A": [1, 2, 3, 4], "B": [5, 6, 7, 8], "Solo": [9]})
    for seed in range(10):
        with pytest.warns(UserWarning, match=r"class Solo has 1 group: it can only be in training; add clips from "
                                             r"another recording \(group\) or drop the class") as record:
            train_idx, test_idx = split_by_group(paths, seed=seed)
        assert len(record) == 1
        assert "Solo" in _sides(paths, train_idx) and "Solo" not in _sides(paths, test_idx)
        assert _sides(paths, test_idx) == {"A", "B"}


def test_too_few_groups_name_the_split_and_the_fix():
    with pytest.raises(ValueError, match=r"the test split .* at least 2 groups.* found 1: add clips .*random_clip"):
        split_by_group(_names({"A": [1], "B": [1]}))
    with pytest.raises(ValueError, match=r"the validation split .* in the training part \(the dataset has 2 in all\)"):
        protocol_split(_names({"A": [1, 2], "B": [1, 2]}), protocol="group")


def test_files_without_a_group_tag_are_each_their_own_group():
    paths = [f"root/{c}/{c.lower()}_{k}.mp4" for c in ("Cat", "Dog") for k in range(6)]
    with pytest.warns(UserWarning, match="12 of 12 files have no group tag") as record:
        groups = video_groups(paths)
    assert len(record) == 1 and len(set(groups.tolist())) == 12
    with pytest.warns(UserWarning, match="no group tag"):
        split = protocol_split(paths, protocol="group")
    for idx in (split.train_idx, split.val_idx, split.test_idx):
        assert _sides(paths, idx) == {"Cat", "Dog"}
    assert split.shared_groups(paths) == set()


def test_untagged_files_split_at_the_asked_share_stratified_with_each_notice_once():
    """Issue 29's example: 3 untagged files of each of 2 classes gave 3 of 6 in test (two of A) and a false
    "class A has 1 group" line; now 1 of each class is tested and the only notice is the untagged-files line."""
    paths = [f"/d/{c}/clip{i}.mp4" for c in "AB" for i in range(3)]
    with pytest.warns(UserWarning) as record:
        split = protocol_split(paths, protocol="group")
    messages = [str(w.message) for w in record]
    assert messages == ["6 of 6 files have no group tag like '_g07_c03' in their name: each is its own group "
                        "(clips of one recording in one group need the tag)"]
    for idx in (split.train_idx, split.val_idx, split.test_idx):
        assert sorted(paths[i].split("/")[2] for i in idx) == ["A", "B"]
    # larger folders: the held-out share is test_size of every class, not of the draw
    paths = [f"/d/{c}/clip{i}.mp4" for c, n in (("A", 8), ("B", 12), ("C", 20)) for i in range(n)]
    for seed in range(5):
        with pytest.warns(UserWarning, match="40 of 40 files have no group tag"):
            train_idx, test_idx = split_by_group(paths, test_size=0.25, seed=seed)
        tested = [paths[i].split("/")[2] for i in test_idx]
        assert (tested.count("A"), tested.count("B"), tested.count("C")) == (2, 3, 5)
        assert len(train_idx) + len(test_idx) == len(paths)
