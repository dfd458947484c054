"""helpers.layers: the custom layers compute what Keras' own layers compute, and old files still load."""

from __future__ import annotations

import zipfile

import keras
import numpy as np
import pytest

from helpers.layers import FoldedTimeDistributed, FusedConvLSTM2D
from helpers.models import clip_input, save_model


def test_folded_time_distributed_equals_keras_loop():
    """FoldedTimeDistributed (time folded into batch) computes what keras' per-step loop computes."""
    conv = keras.layers.Conv2D(5, 3, padding="same")
    x = np.random.default_rng(1).normal(size=(2, 7, 12, 12, 3)).astype("float32")
    ours = FoldedTimeDistributed(conv)(x)
    reference = keras.layers.TimeDistributed(conv)(x)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(reference), rtol=1e-5, atol=1e-5)


def _convlstm_pair(*, return_sequences: bool, recurrent_dropout: float = 0.0):
    kwargs = dict(filters=3, kernel_size=(3, 3), return_sequences=return_sequences, recurrent_dropout=recurrent_dropout)
    ours, reference = FusedConvLSTM2D(**kwargs), keras.layers.ConvLSTM2D(**kwargs)
    x = np.random.default_rng(3).normal(size=(2, 5, 10, 10, 2)).astype("float32")
    ours.build(x.shape)
    reference.build(x.shape)
    reference.set_weights([w + 0.1 * np.random.default_rng(4).normal(size=w.shape) for w in ours.get_weights()])
    ours.set_weights(reference.get_weights())
    return ours, reference, x


@pytest.mark.parametrize("return_sequences", [True, False])
def test_fast_convlstm_equals_keras_layer_and_gradients(return_sequences):
    """FusedConvLSTM2D computes Keras' outputs and gradients from the same weights."""
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
    layer = FusedConvLSTM2D(2, (3, 3), go_backwards=True, return_sequences=True)
    reference = keras.layers.ConvLSTM2D(2, (3, 3), go_backwards=True, return_sequences=True)
    x = np.random.default_rng(5).normal(size=(1, 4, 6, 6, 1)).astype("float32")
    layer.build(x.shape)
    reference.build(x.shape)
    reference.set_weights(layer.get_weights())
    assert not layer._fast_path(keras.ops.convert_to_tensor(x), None, None)
    np.testing.assert_allclose(np.asarray(layer(x)), np.asarray(reference(x)), rtol=1e-5, atol=1e-6)


def test_new_files_use_the_new_names(tmp_path):
    inputs, x = clip_input(num_classes=2, num_frames=4, image_size=16)
    x = FoldedTimeDistributed(keras.layers.GlobalAveragePooling2D())(x)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(x)))
    with zipfile.ZipFile(save_model(model, tmp_path / "new.keras")) as saved:
        assert '"helpers>FoldedTimeDistributed"' in saved.read("config.json").decode()


def test_fast_convlstm_per_gate_convolutions_equal_the_grouped_one(monkeypatch):
    """With oneDNN off (no gradient for grouped convolutions) the masked recurrent step runs one convolution per
    gate: same masks (same seed), same outputs and gradients as the grouped convolution."""
    import tensorflow as tf

    import helpers.layers as layers_module

    results = []
    for grouped in (True, False):
        monkeypatch.setattr(layers_module, "grouped_conv_gradients", lambda grouped=grouped: grouped)
        layer = FusedConvLSTM2D(filters=3, kernel_size=(3, 3), return_sequences=True, recurrent_dropout=0.5, seed=7)
        x = np.random.default_rng(3).normal(size=(2, 5, 10, 10, 2)).astype("float32")
        layer.build(x.shape)
        layer.set_weights([0.3 * np.random.default_rng(4).normal(size=w.shape) for w in layer.get_weights()])
        with tf.GradientTape() as tape:
            y = layer(x, training=True)
            loss = tf.reduce_sum(y * y)
        results.append((np.asarray(y), [np.asarray(g) for g in tape.gradient(loss, layer.trainable_weights)]))
    (y_grouped, g_grouped), (y_split, g_split) = results
    np.testing.assert_allclose(y_split, y_grouped, rtol=1e-5, atol=1e-6)
    for a, b in zip(g_split, g_grouped, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_fast_convlstm_trains_with_tensorflow_s_own_cpu_kernels():
    """TF_ENABLE_ONEDNN_OPTS=0 (a common way to silence TensorFlow's start-up notice) must not stop the ConvLSTM
    training: TensorFlow has no CPU gradient for the grouped convolution (benchmarks/cpu_dependence.py found it)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = ("import numpy as np, tensorflow as tf\n"
            "from helpers.layers import FusedConvLSTM2D\n"
            "layer = FusedConvLSTM2D(filters=2, kernel_size=(3, 3), recurrent_dropout=0.25)\n"
            "x = np.ones((1, 3, 6, 6, 1), 'float32')\n"
            "with tf.GradientTape() as tape:\n"
            "    loss = tf.reduce_sum(layer(x, training=True))\n"
            "print('grads', all(g is not None for g in tape.gradient(loss, layer.trainable_weights)))\n")
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "0", "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=root,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "grads True" in done.stdout
