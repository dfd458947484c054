"""FLOPs of one forward pass of a Keras model, counted layer by layer (notebook 05's ``gflops`` column).

Paper 002 rates "computational efficiency" in GFLOPs copied from unrelated papers; notebook 05 computes them for
the models it compares. The count is analytic, from each layer's weight shapes and the shapes it is called on:

* a multiply-add counts as **2 FLOPs** (one multiply, one add), and a bias add as 1;
* counted: the weight layers (Dense, Conv1D/2D/3D, their transposes, depthwise and separable convolutions) and
  recurrent layers (LSTM, GRU, SimpleRNN, ConvLSTM1D/2D/3D, ``keras.layers.RNN`` over those cells,
  Bidirectional) at every timestep; ``TimeDistributed`` (and ``helpers.layers.FoldedTimeDistributed``)
  multiplies the wrapped layer's count by the number of frames; nested and multi-input models are walked node by
  node (:func:`helpers.keras_compat.graph_nodes`);
* not counted: element-wise work (activations, pooling, rescaling, resizing, normalisation, dropout, the gating
  products inside an LSTM): a few percent of the total for these models, and published figures leave it out too.

A layer with weights and no formula here raises ``NotImplementedError``. Why not TensorFlow's profiler
(``tf.compat.v1.profiler`` on the frozen graph)? With TF 2.21 / Keras 3 it misses every op inside the ``while``
loop of a recurrent layer (an LSTM over 5 steps gets the FLOPs of about one), so an LRCN or ConvLSTM would be
under-counted by an order of magnitude; ``tests/test_flops.py`` uses it only to cross-check feed-forward models.
"""

from __future__ import annotations

import math

import keras
from keras import layers

from helpers.keras_compat import graph_nodes

#: Layers with no (or only element-wise) arithmetic: counted as 0 FLOPs.
ELEMENTWISE_LAYERS: tuple[type, ...] = (
    layers.InputLayer, layers.Activation, layers.ReLU, layers.LeakyReLU, layers.PReLU, layers.ELU, layers.Softmax,
    layers.Dropout, layers.SpatialDropout1D, layers.SpatialDropout2D, layers.SpatialDropout3D,
    layers.GaussianNoise, layers.GaussianDropout, layers.Rescaling, layers.Resizing, layers.Normalization,
    layers.BatchNormalization, layers.LayerNormalization, layers.GroupNormalization, layers.UnitNormalization,
    layers.Flatten, layers.Reshape, layers.Permute, layers.RepeatVector, layers.Cropping1D, layers.Cropping2D,
    layers.Cropping3D, layers.ZeroPadding1D, layers.ZeroPadding2D, layers.ZeroPadding3D,
    layers.UpSampling1D, layers.UpSampling2D, layers.UpSampling3D,
    layers.MaxPooling1D, layers.MaxPooling2D, layers.MaxPooling3D, layers.AveragePooling1D,
    layers.AveragePooling2D, layers.AveragePooling3D, layers.GlobalAveragePooling1D, layers.GlobalAveragePooling2D,
    layers.GlobalAveragePooling3D, layers.GlobalMaxPooling1D, layers.GlobalMaxPooling2D, layers.GlobalMaxPooling3D,
    layers.Add, layers.Subtract, layers.Multiply, layers.Average, layers.Maximum, layers.Minimum,
    layers.Concatenate, layers.Embedding, layers.Lambda,
)

_CONVS = (layers.Conv1D, layers.Conv2D, layers.Conv3D)
_CONV_TRANSPOSES = (layers.Conv1DTranspose, layers.Conv2DTranspose, layers.Conv3DTranspose)
_DEPTHWISE = (layers.DepthwiseConv1D, layers.DepthwiseConv2D)
_SEPARABLE = (layers.SeparableConv1D, layers.SeparableConv2D)


def _size(shape) -> int:
    """Elements of a per-sample shape (batch axis already removed)."""
    if any(d is None for d in shape):
        raise ValueError(f"cannot count FLOPs for a shape with unknown dimensions {tuple(shape)}: "
                         "build the model with fixed num_frames and image_size")
    return math.prod(int(d) for d in shape)


def _bias(layer, out_shape) -> int:
    return _size(out_shape) if getattr(layer, "use_bias", False) else 0


def _rnn_step_flops(cell, in_step: tuple, out_step: tuple) -> int:
    """FLOPs of one timestep of a recurrent cell (input and output shapes of that step)."""
    if hasattr(cell, "cells"):  # StackedRNNCells
        raise NotImplementedError("stacked RNN cells are not supported; use one RNN layer per cell")
    if hasattr(cell, "filters") and hasattr(cell, "recurrent_kernel"):  # ConvLSTM cell
        out_positions = _size(out_step) // cell.filters
        gates = 4 * cell.filters
        macs = out_positions * gates * (_size(cell.kernel.shape[:-1]) + _size(cell.recurrent_kernel.shape[:-1]))
        return 2 * macs + (out_positions * gates if cell.use_bias else 0)
    units, din = int(cell.units), int(in_step[-1])
    if isinstance(cell, layers.LSTMCell):
        gates, biases = 4, 1
    elif isinstance(cell, layers.GRUCell):
        gates, biases = 3, 2 if cell.reset_after else 1  # reset_after keeps separate input and recurrent biases
    elif isinstance(cell, layers.SimpleRNNCell):
        gates, biases = 1, 1
    else:
        raise NotImplementedError(f"no FLOP formula for recurrent cell {type(cell).__name__}")
    return gates * units * (2 * (din + units) + (biases if cell.use_bias else 0))


def _layer_flops(layer, in_shapes: list[tuple], out_shapes: list[tuple]) -> int:
    """FLOPs of one call of ``layer`` on per-sample shapes (batch axis removed)."""
    in_shape, out_shape = in_shapes[0], out_shapes[0]
    if isinstance(layer, keras.Model):
        return _model_flops(layer)
    if isinstance(layer, layers.TimeDistributed):
        steps = int(in_shape[0])
        return steps * _layer_flops(layer.layer, [tuple(in_shape[1:])], [tuple(out_shape[1:])])
    if isinstance(layer, layers.Bidirectional):
        return (_layer_flops(layer.forward_layer, in_shapes, out_shapes)
                + _layer_flops(layer.backward_layer, in_shapes, out_shapes))
    if isinstance(layer, layers.RNN):
        steps = int(in_shape[0])
        out_step = tuple(out_shape[1:]) if layer.return_sequences else tuple(out_shape)
        return steps * _rnn_step_flops(layer.cell, tuple(in_shape[1:]), out_step)
    if isinstance(layer, layers.Dense):
        return 2 * _size(in_shape) * int(layer.units) + _bias(layer, out_shape)
    if isinstance(layer, _CONVS):  # kernel (*kernel_size, in_channels / groups, filters)
        return 2 * _size(out_shape) * _size(layer.kernel.shape[:-1]) + _bias(layer, out_shape)
    if isinstance(layer, _CONV_TRANSPOSES):  # kernel (*kernel_size, filters, in_channels): scatter every input
        return 2 * _size(in_shape) * _size(layer.kernel.shape[:-1]) + _bias(layer, out_shape)
    if isinstance(layer, _DEPTHWISE):  # kernel (*kernel_size, in_channels, multiplier)
        return 2 * _size(out_shape) * _size(layer.kernel.shape[:-2]) + _bias(layer, out_shape)
    if isinstance(layer, _SEPARABLE):  # depthwise (*k, cin, mult), then pointwise (1.., cin * mult, filters)
        depth_out = _size(out_shape) // int(layer.filters) * _size(layer.depthwise_kernel.shape[-2:])
        return (2 * depth_out * _size(layer.depthwise_kernel.shape[:-2])
                + 2 * _size(out_shape) * _size(layer.pointwise_kernel.shape[:-1]) + _bias(layer, out_shape))
    if isinstance(layer, ELEMENTWISE_LAYERS) or not layer.weights:
        return 0
    raise NotImplementedError(f"no FLOP formula for layer {layer.name!r} ({type(layer).__name__})")


def _per_sample(tensor) -> tuple:
    return tuple(tensor.shape[1:])


def _model_flops(model: keras.Model) -> int:
    """Per-sample FLOPs of a functional or Sequential model, summed over its nodes."""
    total = 0
    for node in graph_nodes(model):
        if node.is_input or not isinstance(node.operation, layers.Layer):
            continue  # keras.ops used directly in a functional graph are element-wise here
        total += _layer_flops(node.operation, [_per_sample(t) for t in node.input_tensors],
                              [_per_sample(t) for t in node.output_tensors])
    return total


def count_flops(model: keras.Model, *, batch_size: int = 1) -> int:
    """FLOPs of one forward pass (inference) of ``model`` on ``batch_size`` clips.

    A multiply-add counts as 2 FLOPs and a bias add as 1; element-wise work
    (activations, pooling, normalisation, LSTM gating) is not counted. The module's docstring
    has the rules and why TensorFlow's profiler is not used.

    Args:
        model: A built functional or Sequential Keras model with fixed input shapes,
            e.g. uint8 ``(batch, num_frames, image_size, image_size, 3)``; several
            inputs are fine.
        batch_size: Samples per forward pass (the count is linear in it).

    Returns:
        The FLOPs as an int.

    Raises:
        NotImplementedError: A layer with weights that ``_layer_flops`` has no formula for.
    """
    return int(batch_size) * _model_flops(model)


def gflops(model: keras.Model) -> float:
    """GFLOPs (1e9 FLOPs, a multiply-add = 2) of one forward pass on one clip: :func:`count_flops` / 1e9."""
    return count_flops(model, batch_size=1) / 1e9
