"""Notebook 06's magnitude pruning: the mask reaches the asked sparsity, survives fine-tuning, and the sparse
model then quantizes to int8 like any other.

Pruning is defined in notebook 06's cells (scripts/notebook_source.py loads them without running the notebook);
the deployment table itself is covered by the `pytest --nbmake` run of notebook 06 in the quick profile.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from helpers.deploy import TFLitePredictor, export_model
from helpers.paper_models import build_lrcn
from scripts.notebook_source import definitions

ROOT = Path(__file__).resolve().parents[1]
nb = definitions(ROOT / "notebooks/06_deployment.ipynb", names=["magnitude_masks", "KeepPruned", "sparsity_of",
                                                                 "prune"])
NUM_FRAMES = 4


@pytest.fixture(scope="module")
def model() -> keras.Model:
    keras.utils.set_random_seed(0)
    return build_lrcn(num_classes=2, num_frames=NUM_FRAMES, image_size=64)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (8, NUM_FRAMES, 64, 64, 3), dtype=np.uint8), np.arange(8) % 2


@pytest.mark.parametrize("sparsity", [0.5, 0.75, 0.9])
def test_masks_prune_exactly_the_asked_share_of_every_kernel_by_magnitude(model, sparsity):
    masks = nb.magnitude_masks(model, sparsity=sparsity)
    kernels = {v.path: np.asarray(v) for v in model.trainable_variables if v.path in masks}
    assert {p.rsplit("/", 1)[-1] for p in kernels} == {"kernel", "recurrent_kernel"}  # conv, LSTM, dense; no bias
    for path, weights in kernels.items():
        mask = masks[path]
        assert mask.shape == weights.shape
        assert np.count_nonzero(~mask) == round(sparsity * weights.size)
        assert np.abs(weights[~mask]).max() <= np.abs(weights[mask]).min()  # the smallest magnitudes go


def test_pruned_weights_stay_zero_through_fine_tuning_and_the_model_quantizes(model, data, tmp_path):
    before = [np.asarray(w).copy() for w in model.weights]
    pruned, measured = nb.prune(model, sparsity=0.75, train_data=data, validation_data=data, epochs=2, batch_size=4,
                                learning_rate=1e-2)
    assert measured == pytest.approx(0.75, abs=1e-3)
    assert all(np.array_equal(a, np.asarray(b)) for a, b in zip(before, model.weights, strict=True))  # copy pruned
    pairs = list(zip(model.trainable_variables, pruned.trainable_variables, strict=True))
    kernels = [(np.asarray(a), np.asarray(b)) for a, b in pairs if b.path.rsplit("/", 1)[-1] in ("kernel",
                                                                                                   "recurrent_kernel")]
    # the zeros are the smallest magnitudes of the trained kernels, and the kept weights were fine-tuned
    assert all(np.abs(a[b == 0]).max() <= np.abs(a[b != 0]).min() for a, b in kernels)
    assert any(not np.allclose(a[b != 0], b[b != 0]) for a, b in kernels)
    path = export_model(pruned, tmp_path / "pruned_int8.tflite", quantize="int8", representative_clips=data[0][:4])
    got = TFLitePredictor(path).predict_clips(data[0][:2])
    np.testing.assert_allclose(got, np.asarray(pruned(data[0][:2], training=False)), atol=5e-2)


def test_masks_refuse_a_sparsity_outside_0_1(model):
    with pytest.raises(ValueError, match="sparsity"):
        nb.magnitude_masks(model, sparsity=1.0)


def test_a_two_stream_model_prunes_from_clips_alone(data):
    """The flow input (notebook 05's two-stream model) is computed from the clips, as inference does."""
    from helpers.models import FLOW_INPUT, clip_input

    keras.utils.set_random_seed(0)
    inputs, x = clip_input(num_classes=2, num_frames=NUM_FRAMES, image_size=64)
    flow = keras.Input((NUM_FRAMES - 1, 64, 64, 2), name=FLOW_INPUT)
    features = [keras.layers.GlobalAveragePooling3D()(keras.layers.Conv3D(4, 3)(t)) for t in (x, flow)]
    two_stream = keras.Model([inputs, flow], keras.layers.Dense(2, activation="softmax")(
        keras.layers.Concatenate()(features)))
    pruned, measured = nb.prune(two_stream, sparsity=0.5, train_data=data, validation_data=data, epochs=1,
                                batch_size=4, learning_rate=1e-2)
    assert measured == pytest.approx(0.5, abs=1e-2)
