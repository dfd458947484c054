"""The conditional DCGAN: shapes, training changes the weights, deterministic sampling, the experiment's table."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest

from helpers.gan import (
    ARMS,
    build_augmentation_classifier,
    build_discriminator,
    build_generator,
    frames_from_clips,
    gan_augmentation_experiment,
    sample_frames,
    summarize_runs,
    train_dcgan,
)

NUM_CLASSES, SIZE = 3, 16


@pytest.fixture(scope="module")
def frames() -> tuple[np.ndarray, np.ndarray]:
    """Class k = a bright square in corner k on a dark background, with noise."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(NUM_CLASSES), 16)
    x = rng.integers(0, 40, (len(labels), SIZE, SIZE, 3), dtype=np.uint8)
    for i, k in enumerate(labels):
        r, c = divmod(int(k), 2)
        x[i, 8 * r:8 * r + 8, 8 * c:8 * c + 8] = 220
    return x, labels


@pytest.mark.parametrize("image_size", [16, 32])
def test_shapes(image_size):
    generator = build_generator(num_classes=NUM_CLASSES, latent_dim=8, image_size=image_size, base_filters=8)
    discriminator = build_discriminator(num_classes=NUM_CLASSES, image_size=image_size, base_filters=8)
    fake = generator([np.zeros((2, 8), np.float32), np.array([0, 2])], training=False)
    assert tuple(fake.shape) == (2, image_size, image_size, 3)
    assert float(np.abs(fake).max()) <= 1.0
    assert tuple(discriminator([np.asarray(fake), np.array([0, 2])]).shape) == (2, 1)
    classifier = build_augmentation_classifier(num_classes=NUM_CLASSES, image_size=image_size)
    assert classifier.output_shape == (None, NUM_CLASSES)
    with pytest.raises(ValueError, match="power of two"):
        build_generator(num_classes=2, image_size=24)


def test_frames_from_clips():
    clips = np.random.default_rng(0).integers(0, 256, (2, 6, 32, 32, 3), dtype=np.uint8)
    for mode in ("raw", "motion"):
        frames, labels, clip_ids = frames_from_clips(clips, np.array([1, 0]), frames_per_clip=3, image_size=16,
                                                     mode=mode)
        assert frames.shape == (6, 16, 16, 3) and frames.dtype == np.uint8
        assert labels.tolist() == [1, 1, 1, 0, 0, 0] and clip_ids.tolist() == [0, 0, 0, 1, 1, 1]
    still = np.full((1, 4, 16, 16, 3), 90, np.uint8)
    assert (frames_from_clips(still, [0], image_size=16, mode="motion")[0] == 0).all()  # nothing moves


def test_training_changes_weights_and_sampling_is_deterministic(frames):
    x, labels = frames
    run = train_dcgan(x, labels, epochs=1, batch_size=16, seed=0, latent_dim=8, base_filters=8)
    untrained = []
    for _ in range(2):
        keras.utils.set_random_seed(0)  # the initial weights train_dcgan(seed=0) started from
        untrained.append(build_generator(num_classes=NUM_CLASSES, latent_dim=8, image_size=SIZE, base_filters=8))
    for a, b in zip(untrained[0].get_weights(), untrained[1].get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # so the comparison below sees training, not a new draw
    untrained = untrained[0]
    changed = [not np.allclose(a, b) for a, b in zip(untrained.get_weights(), run.generator.get_weights(),
                                                      strict=True)]
    assert any(changed)
    assert set(run.history) == {"d_loss", "g_loss"} and len(run.history["d_loss"]) == 1
    assert np.isfinite(run.history["d_loss"]).all()
    a = sample_frames(run.generator, labels=[0, 1, 2, 2], seed=5)
    b = sample_frames(run.generator, labels=[0, 1, 2, 2], seed=5, batch_size=3)
    c = sample_frames(run.generator, labels=[0, 1, 2, 2], seed=6)
    assert a.shape == (4, SIZE, SIZE, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_experiment_table(frames):
    x, labels = frames
    result = gan_augmentation_experiment(x, labels, x[::4], labels[::4], num_classes=NUM_CLASSES,
                                         test_clip_ids=np.arange(len(x))[::4] // 2, seeds=(0,), gan_epochs=1,
                                         classifier_epochs=1, batch_size=16, latent_dim=8, base_filters=8)
    assert result.summary["arm"].tolist() == list(ARMS)
    assert list(result.summary.columns) == ["arm", "train_frames", "accuracy_mean", "accuracy_std",
                                            "clip_accuracy_mean", "clip_accuracy_std", "seeds"]
    assert result.summary["train_frames"].tolist() == [48, 96, 96, 48]
    assert (result.summary["seeds"] == 1).all()
    assert len(result.runs) == 4 and result.runs["accuracy"].between(0, 1).all()
    assert result.runs["clip_accuracy"].between(0, 1).all()
    assert len(result.gan_runs) == 1 and result.seconds > 0


def test_summarize_runs_over_seeds():
    runs = pd.DataFrame({"arm": ["real", "real+gan", "real", "real+gan"], "seed": [0, 0, 1, 1],
                         "train_frames": [10, 20, 10, 20], "accuracy": [0.5, 0.4, 0.7, 0.4],
                         "clip_accuracy": [0.5, 0.5, 1.0, 0.5]})
    summary = summarize_runs(runs).set_index("arm")
    assert summary.index.tolist() == ["real", "real+gan"]
    assert summary.loc["real", "accuracy_mean"] == pytest.approx(0.6)
    assert summary.loc["real", "accuracy_std"] == pytest.approx(np.std([0.5, 0.7], ddof=1))
    assert summary.loc["real+gan", "accuracy_std"] == 0 and (summary["seeds"] == 2).all()
