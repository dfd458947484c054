"""helpers.robustness, notebook 05's perturbations: deterministic, shape- and dtype-preserving, never in place;
and the scores."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from helpers.robustness import KINDS, dropped_frame_indices, perturb, robustness_scores
from tests.conftest import numbered_frames

STRENGTHS = {"noise": 20.0, "blur": 1.5, "brightness": 40.0, "dropped_frames": 0.25}  # notebook 05's


@pytest.fixture
def clips() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (3, 8, 16, 16, 3), dtype=np.uint8)


@pytest.mark.parametrize("kind", KINDS)
def test_shape_dtype_and_input_untouched(clips, kind):
    before = clips.copy()
    out = perturb(clips, kind=kind, strength=STRENGTHS[kind], seed=1)
    assert out.shape == clips.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(clips, before)
    assert not np.array_equal(out, clips)


@pytest.mark.parametrize("kind", KINDS)
def test_deterministic_and_zero_is_identity(clips, kind):
    strength = STRENGTHS[kind]
    np.testing.assert_array_equal(perturb(clips, kind=kind, strength=strength, seed=3),
                                  perturb(clips, kind=kind, strength=strength, seed=3))
    identity = perturb(clips, kind=kind, strength=0, seed=3)
    np.testing.assert_array_equal(identity, clips)
    assert identity is not clips


def test_noise_depends_on_seed(clips):
    a = perturb(clips, kind="noise", strength=20, seed=1)
    b = perturb(clips, kind="noise", strength=20, seed=2)
    assert not np.array_equal(a, b)
    flat = np.full((1, 4, 32, 32, 3), 128, np.uint8)
    assert abs(perturb(flat, kind="noise", strength=20, seed=0).astype(float).std() - 20) < 1


def test_read_only_input_is_fine(clips):
    clips.setflags(write=False)
    for kind in KINDS:
        perturb(clips, kind=kind, strength=STRENGTHS[kind])


def test_brightness_and_blur_values():
    flat = np.full((1, 2, 8, 8, 3), 200, np.uint8)
    assert (perturb(flat, kind="brightness", strength=40) == 240).all()
    assert (perturb(flat, kind="brightness", strength=80) == 255).all()  # clipped, no wrap-around
    assert (perturb(flat, kind="brightness", strength=-250) == 0).all()
    assert (perturb(flat, kind="blur", strength=2) == 200).all()  # blurring a flat frame changes nothing


def test_dropped_frames_repeat_the_previous_kept_frame():
    clip = numbered_frames(20, size=8)[None]  # frame i has its own colour
    out = perturb(clip, kind="dropped_frames", strength=0.25, seed=5)[0]
    source = [int(np.flatnonzero((clip[0, :, 0, 0] == frame[0, 0]).all(axis=1))[0]) for frame in out]
    assert source[0] == 0
    assert np.all(np.diff(source) >= 0)  # order kept
    assert len(set(source)) == 20 - 5  # round(0.25 * 20) frames dropped
    for t in range(1, 20):
        assert source[t] == t or source[t] == source[t - 1]  # a dropped frame repeats the previous one shown
    idx = dropped_frame_indices(20, fraction=0.95, rng=np.random.default_rng(0))
    assert (idx == 0).all()  # at most num_frames - 1 dropped; frame 0 always kept


def test_bad_arguments(clips):
    with pytest.raises(ValueError, match="kind"):
        perturb(clips, kind="rain", strength=1)
    with pytest.raises(ValueError, match="fraction"):
        perturb(clips, kind="dropped_frames", strength=1.0)
    with pytest.raises(ValueError, match="uint8"):
        perturb(clips.astype(np.float32), kind="noise", strength=1)


def mean_brightness_model() -> keras.Model:
    """Class 1 when a clip's mean pixel is above 128, else class 0 (fixed weights, no training)."""
    inputs = keras.Input((4, 8, 8, 3), dtype="uint8")
    x = layers.GlobalAveragePooling1D()(layers.Reshape((4 * 8 * 8 * 3, 1))(layers.Rescaling(1 / 255)(inputs)))
    dense = layers.Dense(2, activation="softmax")
    outputs = dense(x)
    dense.set_weights([np.array([[-50.0, 50.0]]), np.array([25.0, -25.0])])
    return keras.Model(inputs, outputs)


def test_robustness_scores_keys_values_and_batch_independence():
    model = mean_brightness_model()
    levels = np.array([60, 100, 110, 140, 150, 200], np.uint8)
    features = np.broadcast_to(levels[:, None, None, None, None], (6, 4, 8, 8, 3)).copy()
    labels = (levels > 128).astype(int)
    scores = robustness_scores(model, features, labels, strengths=STRENGTHS, batch_size=4, seed=0)
    assert list(scores) == [f"robust_{k}" for k in KINDS]
    assert scores["robust_blur"] == scores["robust_dropped_frames"] == 1.0  # flat clips: unchanged
    assert scores["robust_brightness"] == pytest.approx(4 / 6)  # +40 pushes 100 and 110 over 128
    assert robustness_scores(model, features, labels, strengths=STRENGTHS, batch_size=5, seed=0) == scores
    only = robustness_scores(model, features, labels, strengths={"brightness": -80})
    assert only == {"robust_brightness": pytest.approx(3 / 6)}


def test_robustness_scores_inputs_fn():
    model = mean_brightness_model()
    features = np.full((2, 4, 8, 8, 3), 100, np.uint8)
    seen = []

    def inputs_fn(batch):
        seen.append(batch.shape)
        return 255 - batch  # e.g. a second stream computed from the perturbed clip

    scores = robustness_scores(model, features, np.ones(2, int), strengths={"noise": 1.0}, inputs_fn=inputs_fn)
    assert scores == {"robust_noise": 1.0} and seen == [(2, 4, 8, 8, 3)]
