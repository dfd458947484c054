"""The conditional DCGAN: shapes, training changes the weights, deterministic sampling.

The DCGAN is defined in notebook 08's cells and marked #@save (`make export` writes it to
studies/gan_augmentation.py, imported here); the augmentation experiment (frames_from_clips, the frame classifier,
the arms and the table) is covered by the `pytest --nbmake` run of notebook 08 in the quick profile.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from studies.gan_augmentation import build_discriminator, build_generator, sample_frames, train_dcgan

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
    with pytest.raises(ValueError, match="power of two"):
        build_generator(num_classes=2, image_size=24)


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
