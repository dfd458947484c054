"""helpers.flops, notebook 05's FLOP counter (its ``gflops`` column), against hand-computed counts (a multiply-add
= 2 FLOPs, a bias add = 1)."""

from __future__ import annotations

import math

import keras
import pytest
import tensorflow as tf
from keras import layers

from helpers.flops import count_flops, gflops
from helpers.layers import FoldedTimeDistributed
from helpers.paper_models import build_convlstm, build_lrcn


def sequential(input_shape, *stack) -> keras.Model:
    return keras.Sequential([keras.Input(input_shape), *stack])


def _profile_graph(fn, specs: list[tf.TensorSpec]) -> int:
    """TensorFlow profiler's float-op count of ``fn`` traced on ``specs``, variables frozen to constants."""
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    concrete = tf.function(fn).get_concrete_function(*specs)
    graph = convert_variables_to_constants_v2(concrete).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    profile = tf.compat.v1.profiler.profile(graph=graph, run_meta=tf.compat.v1.RunMetadata(), cmd="op",
                                            options=options)
    return int(profile.total_float_ops)


def profile_flops(model: keras.Model, *, batch_size: int = 1) -> int:
    """FLOPs of one forward pass as TensorFlow's profiler counts them on the frozen graph.

    The cross-check of notebook 05's ``count_flops``: it also counts element-wise ops
    (bias adds, rescaling, pooling …) and it **misses the ops inside while loops**, i.e.
    nearly all of a recurrent layer, so it agrees only on feed-forward weight layers.

    Args:
        model: A Keras model with fixed input shapes.
        batch_size: Samples per forward pass.

    Returns:
        ``total_float_ops`` of ``tf.compat.v1.profiler.profile``.
    """
    specs = [tf.TensorSpec((batch_size, *x.shape[1:]), x.dtype) for x in model.inputs]
    if len(specs) == 1:
        return _profile_graph(lambda x: model(x, training=False), specs)
    return _profile_graph(lambda *xs: model(list(xs), training=False), specs)


def test_dense_by_hand():
    model = sequential((10,), layers.Dense(5))
    assert count_flops(model) == 2 * 10 * 5 + 5  # 50 multiply-adds + 5 bias adds
    assert count_flops(sequential((10,), layers.Dense(5, use_bias=False))) == 100
    assert count_flops(model, batch_size=4) == 4 * 105


def test_conv2d_by_hand():
    model = sequential((8, 8, 3), layers.Conv2D(4, 3, padding="same"))
    assert count_flops(model) == 2 * (8 * 8 * 4) * (3 * 3 * 3) + 8 * 8 * 4
    valid = sequential((8, 8, 3), layers.Conv2D(4, 3, strides=2))  # 3x3 outputs
    assert count_flops(valid) == 2 * (3 * 3 * 4) * 27 + 3 * 3 * 4


def test_lstm_by_hand():
    # per step: 4 gates x 7 units x (6 inputs + 7 recurrent) multiply-adds + 4 x 7 bias adds; 5 steps
    model = sequential((5, 6), layers.LSTM(7))
    assert count_flops(model) == 5 * 4 * 7 * (2 * (6 + 7) + 1)
    assert count_flops(sequential((5, 6), layers.GRU(7))) == 5 * 3 * 7 * (2 * (6 + 7) + 2)  # reset_after: 2 biases
    assert count_flops(sequential((5, 6), layers.Bidirectional(layers.SimpleRNN(7)))) == 2 * 5 * 7 * (2 * 13 + 1)


def test_convlstm_by_hand():
    # per step and output position: 4 gates x 4 filters x (3*3*3 input + 3*3*4 recurrent) multiply-adds + bias
    model = sequential((4, 8, 8, 3), layers.ConvLSTM2D(4, 3, padding="same"))
    assert count_flops(model) == 4 * 8 * 8 * 16 * (2 * (27 + 36) + 1)


@pytest.mark.parametrize("wrapper", [layers.TimeDistributed, FoldedTimeDistributed])
def test_time_distributed_multiplies_by_frames(wrapper):
    conv = sequential((8, 8, 3), layers.Conv2D(4, 3, padding="same"))
    clip = sequential((6, 8, 8, 3), wrapper(layers.Conv2D(4, 3, padding="same")))
    assert count_flops(clip) == 6 * count_flops(conv)


def test_nested_and_multi_input_models():
    frame_cnn = sequential((8, 8, 3), layers.Conv2D(4, 3, padding="same"), layers.Flatten())
    rgb, flow = keras.Input((6, 8, 8, 3)), keras.Input((5, 8, 8, 2))
    a = layers.GlobalAveragePooling1D()(FoldedTimeDistributed(frame_cnn)(rgb))
    b = layers.Flatten()(layers.Conv3D(2, 3, padding="same")(flow))
    model = keras.Model([rgb, flow], layers.Dense(3)(layers.Concatenate()([a, b])))
    expected = (6 * count_flops(frame_cnn)
                + 2 * (5 * 8 * 8 * 2) * (3 * 3 * 3 * 2) + 5 * 8 * 8 * 2
                + 2 * (256 + 640) * 3 + 3)
    assert count_flops(model) == expected


def test_feedforward_matches_tensorflow_profiler():
    # on ops without while loops TF's own counter agrees with the analytic one
    model = sequential((8, 8, 3), layers.Conv2DTranspose(4, 3, strides=2, padding="same"),
                       layers.DepthwiseConv2D(3), layers.SeparableConv2D(5, 3), layers.Flatten(), layers.Dense(3))
    assert count_flops(model) == profile_flops(model)
    conv3d = sequential((4, 8, 8, 3), layers.Conv3D(4, 3, padding="same"))
    assert count_flops(conv3d) == profile_flops(conv3d)


def test_paper_models_positive_and_finite():
    for build in (build_lrcn, build_convlstm):
        value = gflops(build(num_classes=8, num_frames=20, image_size=64))
        assert value > 0 and math.isfinite(value)


class _Scale(layers.Layer):
    """A layer with a weight and no FLOP formula."""

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(), initializer="ones")

    def call(self, x):
        return x * self.scale


def test_unknown_weight_layer_is_refused():
    with pytest.raises(NotImplementedError, match="no FLOP formula"):
        count_flops(sequential((4,), _Scale()))
