"""Paper 001 models: exact parameter counts, Figure 8 shapes, input contract, save/load."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from helpers.models import (
    ClipRescaling,
    ConvLSTM2D,
    TimeDistributed,
    build_convlstm,
    build_lrcn,
    load_model,
    model_spec,
    save_model,
)

# Paper 001, Figure 8: output shape of every TimeDistributed layer, then LSTM and Dense.
FIGURE8_SHAPES = [
    (None, 20, 64, 64, 16), (None, 20, 16, 16, 16), (None, 20, 16, 16, 16),
    (None, 20, 16, 16, 32), (None, 20, 4, 4, 32), (None, 20, 4, 4, 32),
    (None, 20, 4, 4, 64), (None, 20, 2, 2, 64), (None, 20, 2, 2, 64),
    (None, 20, 2, 2, 64), (None, 20, 1, 1, 64), (None, 20, 64),
    (None, 32), (None, 4),
]
FIGURE8_PARAMS = [448, 0, 0, 4640, 0, 0, 18496, 0, 0, 36928, 0, 0, 12416, 132]


def test_lrcn_matches_figure8_exactly():
    model = build_lrcn(num_classes=4)
    assert model.count_params() == 73_060
    body = [layer for layer in model.layers if not isinstance(layer, (keras.layers.InputLayer, ClipRescaling))]
    assert [tuple(layer.output.shape) for layer in body] == FIGURE8_SHAPES
    assert [layer.count_params() for layer in body] == FIGURE8_PARAMS
    assert all(isinstance(layer, keras.layers.TimeDistributed) for layer in body[:12])


def test_convlstm_parameter_count():
    model = build_convlstm(num_classes=4)
    assert model.count_params() == 44_524
    assert model.output_shape == (None, 4)
    assert [layer.filters for layer in model.layers if isinstance(layer, keras.layers.ConvLSTM2D)] == [4, 8, 14, 16]


@pytest.mark.parametrize("builder", [build_lrcn, build_convlstm])
def test_models_take_raw_uint8_clips(builder):
    model = builder(num_classes=3, num_frames=6, image_size=64)
    assert model.input.dtype == "uint8"
    rescale = model.get_layer("rescaling")
    assert isinstance(rescale, keras.layers.Rescaling) and rescale.count_params() == 0
    clips = np.random.default_rng(0).integers(0, 256, (2, 6, 64, 64, 3), dtype=np.uint8)
    probs = model.predict(clips, verbose=0)
    assert probs.shape == (2, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_folded_time_distributed_equals_keras_loop():
    """Our TimeDistributed (time folded into batch) computes what keras' per-step loop computes."""
    conv = keras.layers.Conv2D(5, 3, padding="same")
    x = np.random.default_rng(1).normal(size=(2, 7, 12, 12, 3)).astype("float32")
    ours = TimeDistributed(conv)(x)
    reference = keras.layers.TimeDistributed(conv)(x)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(reference), rtol=1e-5, atol=1e-5)


def _convlstm_pair(*, return_sequences: bool, recurrent_dropout: float = 0.0):
    kwargs = dict(filters=3, kernel_size=(3, 3), return_sequences=return_sequences, recurrent_dropout=recurrent_dropout)
    ours, reference = ConvLSTM2D(**kwargs), keras.layers.ConvLSTM2D(**kwargs)
    x = np.random.default_rng(3).normal(size=(2, 5, 10, 10, 2)).astype("float32")
    ours.build(x.shape)
    reference.build(x.shape)
    reference.set_weights([w + 0.1 * np.random.default_rng(4).normal(size=w.shape) for w in ours.get_weights()])
    ours.set_weights(reference.get_weights())
    return ours, reference, x


@pytest.mark.parametrize("return_sequences", [True, False])
def test_fast_convlstm_equals_keras_layer_and_gradients(return_sequences):
    """The hoisted-input-conv ConvLSTM2D computes Keras' outputs and gradients from the same weights."""
    import tensorflow as tf

    ours, reference, x = _convlstm_pair(return_sequences=return_sequences)
    results = []
    for layer in (ours, reference):
        with tf.GradientTape() as tape:
            y = layer(x, training=True)
            loss = tf.reduce_sum(y * y)
        results.append((np.asarray(y), [np.asarray(g) for g in tape.gradient(loss, layer.trainable_weights)]))
    (y_ours, g_ours), (y_ref, g_ref) = results
    assert y_ours.shape == y_ref.shape == ((2, 5, 8, 8, 3) if return_sequences else (2, 8, 8, 3))
    np.testing.assert_allclose(y_ours, y_ref, rtol=1e-4, atol=1e-5)
    for a, b in zip(g_ours, g_ref, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)


def test_fast_convlstm_recurrent_dropout_masks_each_gate_and_is_off_at_inference():
    ours, reference, x = _convlstm_pair(return_sequences=True, recurrent_dropout=0.5)
    np.testing.assert_allclose(np.asarray(ours(x, training=False)), np.asarray(reference(x, training=False)),
                               rtol=1e-4, atol=1e-5)
    first, second = np.asarray(ours(x, training=True)), np.asarray(ours(x, training=True))
    assert not np.allclose(first, second)  # fresh masks per call, as in Keras
    assert np.isfinite(first).all()


def test_fast_convlstm_falls_back_to_keras_for_uncovered_options():
    layer = ConvLSTM2D(2, (3, 3), go_backwards=True, return_sequences=True)
    reference = keras.layers.ConvLSTM2D(2, (3, 3), go_backwards=True, return_sequences=True)
    x = np.random.default_rng(5).normal(size=(1, 4, 6, 6, 1)).astype("float32")
    layer.build(x.shape)
    reference.build(x.shape)
    reference.set_weights(layer.get_weights())
    assert not layer._fast_path(keras.ops.convert_to_tensor(x), None, None)
    np.testing.assert_allclose(np.asarray(layer(x)), np.asarray(reference(x)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("builder", [build_lrcn, build_convlstm])
def test_saved_model_carries_class_names_and_predicts_the_same(tmp_path, builder):
    names = ["Jumping", "SitDown", "StandUp"]
    model = builder(num_classes=3, num_frames=8, image_size=64)
    clips = np.random.default_rng(2).integers(0, 256, (3, 8, 64, 64, 3), dtype=np.uint8)
    expected = model.predict(clips, verbose=0)
    path = save_model(model, tmp_path / f"{model.name}.keras", class_names=names)
    assert not list(tmp_path.glob(".*tmp*"))  # atomic write leaves no temp file
    reloaded = load_model(path)
    spec = model_spec(reloaded)
    assert spec.class_names == tuple(names) and spec.num_frames == 8 and spec.image_size == 64
    np.testing.assert_allclose(reloaded.predict(clips, verbose=0), expected, rtol=1e-5, atol=1e-6)


def test_save_refuses_wrong_number_of_class_names(tmp_path):
    with pytest.raises(ValueError, match="3 outputs but 2 class names"):
        save_model(build_lrcn(num_classes=3, num_frames=4), tmp_path / "m.keras", class_names=["a", "b"])


def test_load_model_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.keras"):
        load_model(tmp_path / "missing.keras")
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="bad.keras"):
        load_model(bad)
