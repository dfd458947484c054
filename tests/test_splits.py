"""Train/test splits: the honest group split and the paper's leaky clip split."""

from __future__ import annotations

import numpy as np

from helpers.dataset import create_dataset
from helpers.splits import split_by_group, split_random_clip_leaky
from helpers.ucf import video_group


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
