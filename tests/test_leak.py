"""Notebook 09's nearest-neighbour memoriser on colour histograms, the model that shows the leak.

Imported from studies/leak.py, which `make export` writes from the notebook's #@save definitions."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.data import create_dataset
from helpers.splits import protocol_split
from helpers.synthetic import generate_dataset
from studies.leak import colour_histograms, nearest_neighbour_predict


def test_colour_histograms_count_the_share_of_pixels_per_colour_cell():
    clips = np.zeros((2, 3, 4, 4, 3), np.uint8)
    clips[1, :, :2] = (255, 0, 130)  # the top half of every frame of clip 1
    hist = colour_histograms(clips, bins=2)
    assert hist.shape == (2, 8) and np.allclose(hist.sum(axis=1), 1.0)
    assert hist[0, 0] == 1.0  # all black: cell (0, 0, 0)
    # half black, half in cell (r=1, g=0, b=1) = (1 * 2 + 0) * 2 + 1 = 5
    assert hist[1, 0] == 0.5 and hist[1, 5] == 0.5
    # where and when a colour appears does not matter
    moved = clips[:, ::-1, ::-1, ::-1]
    assert np.array_equal(colour_histograms(moved, bins=2), hist)
    # batches give the same counts as one pass
    assert np.array_equal(colour_histograms(clips, bins=2, batch=1), hist)
    with pytest.raises(ValueError, match="bins=3"):
        colour_histograms(clips, bins=3)


@pytest.fixture(scope="module")
def groups_dataset(tmp_path_factory):
    """4 classes x 6 groups x 3 clips of the embedded dataset, 8 frames of 16x16."""
    root = tmp_path_factory.mktemp("leak")
    dataset_dir = generate_dataset(root / "ucf", class_names=("Clapping", "Jumping", "Walking", "Waving"),
                                   num_groups=6, clips_per_group=3, frame_size=(64, 48), min_frames=12, max_frames=16,
                                   progress=False, num_workers=1)
    return create_dataset(dataset_dir, num_frames=8, image_size=16, num_workers=1, progress=False)


def test_memoriser_finds_twins_on_a_leaky_split_and_not_across_groups(groups_dataset):
    features, labels, paths = groups_dataset
    accuracy = {}
    for protocol in ("random_clip", "group"):
        split = protocol_split(paths, protocol=protocol, test_size=0.25, val_size=0.2, seed=27)
        memory = np.r_[split.train_idx, split.val_idx]
        pred = nearest_neighbour_predict(features[memory], labels[memory], features[split.test_idx])
        accuracy[protocol] = float(np.mean(pred == labels[split.test_idx]))
    chance = 1 / 4
    assert accuracy["random_clip"] >= 0.7 and accuracy["random_clip"] - accuracy["group"] >= 0.4
    assert accuracy["group"] <= chance + 0.25
    # a clip's own copy in memory is always its nearest neighbour
    assert (nearest_neighbour_predict(features, labels, features) == labels).all()
