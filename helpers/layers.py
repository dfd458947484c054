"""Custom Keras layers, each under a name that says what it does (not Keras' own names).

* :class:`ClipRescaling`: the first layer of every clip model, ``Rescaling(1/255)``
  that also records the class names, frame count and image size the model expects.
* :class:`FoldedTimeDistributed`: ``TimeDistributed`` with time folded into the batch
  axis (one call instead of a Python loop over frames).
* :class:`FusedConvLSTM2D`: ``ConvLSTM2D`` with the input convolution hoisted out of the
  time loop and the four recurrent convolutions fused into one.
* :class:`WeightedConcat`, :class:`WeightedAverage`: fixed-``alpha`` fusions of two
  inputs (paper 000's 0.7/0.3 merge, the two-stream late fusion).
* :class:`TemporalCentering`: each clip minus its mean frame.

:class:`FoldedTimeDistributed` and :class:`FusedConvLSTM2D` are tested against Keras'
own layers (``tests/test_layers.py``): same weights, same outputs. All are registered
for ``.keras`` files as ``helpers>ClassName``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import keras
from keras import layers

from helpers.keras_compat import layer_takes_training


@keras.saving.register_keras_serializable(package="helpers")
class ClipRescaling(layers.Rescaling):
    """``Rescaling(1/255)`` for uint8 clips that also stores the model's class names.

    Args:
        class_names: Label of each output unit, in order.
        num_frames: Frames per clip the model was built for.
        image_size: Frame height and width the model was built for.
    """

    def __init__(self, *, class_names: Sequence[str] = (), num_frames: int = 20, image_size: int = 64, **kwargs):
        kwargs.setdefault("scale", 1.0 / 255)
        super().__init__(**kwargs)
        self.class_names = [str(c) for c in class_names]
        self.num_frames = int(num_frames)
        self.image_size = int(image_size)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(class_names=list(self.class_names), num_frames=self.num_frames, image_size=self.image_size)
        return config


@keras.saving.register_keras_serializable(package="helpers")
class FoldedTimeDistributed(layers.TimeDistributed):
    """``keras.layers.TimeDistributed`` that folds time into the batch axis.

    Keras 3's TimeDistributed runs the wrapped layer once per timestep in a Python
    loop (20 small convolutions per layer per step); folding
    ``(batch, time, ...) -> (batch * time, ...)`` runs it once on a big batch. Same
    weights, same outputs (per-frame dropout masks stay independent), several times
    faster on a CPU. Only for layers without masks or state across time.
    """

    def call(self, inputs, training=None, mask=None):
        if mask is not None:
            return super().call(inputs, training=training, mask=mask)
        shape = keras.ops.shape(inputs)
        folded = keras.ops.reshape(inputs, (-1, *inputs.shape[2:]))
        kwargs = {"training": training} if layer_takes_training(self.layer) else {}
        outputs = self.layer.call(folded, **kwargs)
        return keras.ops.reshape(outputs, (shape[0], shape[1], *outputs.shape[1:]))


def grouped_conv_gradients() -> bool:
    """Whether TensorFlow can differentiate a grouped convolution here: with oneDNN's CPU kernels (TensorFlow's
    default) it can; with ``TF_ENABLE_ONEDNN_OPTS=0`` (TensorFlow's own CPU kernels) it raises "Gradients for
    grouped convolutions are not supported on CPU" (found by ``benchmarks/cpu_dependence.py``)."""
    return os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1").strip().lower() not in {"0", "false", "off", "no"}


@keras.saving.register_keras_serializable(package="helpers")
class FusedConvLSTM2D(layers.ConvLSTM2D):
    """``keras.layers.ConvLSTM2D`` with the input convolution hoisted out of the time loop.

    Keras 3's cell runs eight small convolutions per timestep (input and recurrent, one
    per gate). Here the input-to-gates convolution runs once over all frames (time
    folded into the batch axis), and the four recurrent convolutions run as one grouped
    convolution over the per-gate (dropout-masked) copies of ``h``, in a loop unrolled
    over the static number of frames. Same weights, same parameter count, same outputs
    (tested against Keras' own layer); recurrent dropout keeps Keras' semantics (one
    mask per gate, fixed across time). About 1.7x faster per training step on a CPU.
    TensorFlow's own CPU kernels (``TF_ENABLE_ONEDNN_OPTS=0``) have no gradient for a grouped
    convolution: there the masked recurrent step runs as four convolutions, one per gate
    (:func:`grouped_conv_gradients`).
    Anything this path does not cover (input dropout, masks, initial states, stateful,
    go_backwards, channels_first, a dynamic time axis) falls back to Keras' loop.
    """

    def _fast_path(self, sequences, initial_state, mask) -> bool:
        cell = self.cell
        return (initial_state is None and mask is None and not self.stateful and not self.go_backwards
                and cell.data_format == "channels_last" and cell.dropout == 0 and sequences.shape[1] is not None
                and tuple(cell.strides) == (1, 1) and tuple(cell.dilation_rate) == (1, 1))

    def call(self, sequences, initial_state=None, mask=None, training=False):
        """``(batch, time, height, width, channels)`` -> ``(batch, time, h', w', filters)`` or the last step."""
        if not self._fast_path(sequences, initial_state, mask):
            return super().call(sequences, initial_state=initial_state, mask=mask, training=training)
        import tensorflow as tf  # grouped convolution; the project runs Keras on the TensorFlow backend

        cell, ops = self.cell, keras.ops
        batch, num_frames = ops.shape(sequences)[0], sequences.shape[1]
        folded = ops.reshape(sequences, (-1, *sequences.shape[2:]))
        gates_x = cell.input_conv(folded, cell.kernel, None, padding=cell.padding)
        if cell.use_bias:
            gates_x = gates_x + cell.bias
        gates_x = ops.reshape(gates_x, (batch, num_frames, *gates_x.shape[1:]))
        state_shape = (batch, *gates_x.shape[2:4], cell.filters)
        h = c = ops.zeros(state_shape, dtype=gates_x.dtype)
        mask4, grouped = None, grouped_conv_gradients()
        if training and 0.0 < cell.recurrent_dropout < 1.0:
            ones = ops.ones((batch, *gates_x.shape[2:4], 4 * cell.filters), dtype=gates_x.dtype)
            mask4 = keras.random.dropout(ones, cell.recurrent_dropout, seed=cell.seed_generator)
        outputs = []
        for x_t in ops.unstack(gates_x, axis=1):  # unstack, not x[:, t]: its gradient is one stack
            if mask4 is None:
                gates_h = cell.recurrent_conv(h, cell.recurrent_kernel)
            elif grouped:  # gate g sees h * mask_g: a 4-group convolution over four masked copies of h
                gates_h = tf.nn.conv2d(ops.tile(h, (1, 1, 1, 4)) * mask4, cell.recurrent_kernel, 1, "SAME")
            else:  # the same, one convolution per gate
                gates_h = ops.concatenate([tf.nn.conv2d(h * m, k, 1, "SAME") for m, k in zip(
                    ops.split(mask4, 4, axis=-1), ops.split(cell.recurrent_kernel, 4, axis=-1), strict=True)], axis=-1)
            z_i, z_f, z_c, z_o = ops.split(x_t + gates_h, 4, axis=-1)
            c = cell.recurrent_activation(z_f) * c + cell.recurrent_activation(z_i) * cell.activation(z_c)
            h = cell.recurrent_activation(z_o) * cell.activation(c)
            outputs.append(h)
        return ops.stack(outputs, axis=1) if self.return_sequences else h


class _AlphaFusion(layers.Layer):
    """Base of the two fixed-weight fusions: validates ``alpha`` in [0, 1] and keeps it in the config."""

    def __init__(self, alpha: float, **kwargs):
        super().__init__(**kwargs)
        alpha = float(alpha)
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
        self.alpha = alpha

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(alpha=self.alpha)
        return config


@keras.saving.register_keras_serializable(package="helpers")
class WeightedConcat(_AlphaFusion):
    """Concatenate ``alpha * a`` and ``(1 - alpha) * b``: paper 000's 0.7/0.3 feature merge.

    Paper 002's fusion rule ``y = alpha * f1(x) + (1 - alpha) * f2(x)`` applied to two
    feature vectors that are then concatenated rather than summed, as paper 000 does.
    ``alpha`` is fixed (not trained) and stored in the layer's config. At ``alpha=1`` the
    second input contributes exact zeros, at ``alpha=0`` the first.

    Args:
        alpha: Weight of the first input, in [0, 1].

    Call args:
        inputs: ``[a, b]`` of shapes ``(batch, features_a)`` and ``(batch, features_b)``.

    Returns:
        ``(batch, features_a + features_b)``.
    """

    def __init__(self, alpha: float = 0.7, **kwargs):
        super().__init__(alpha=alpha, **kwargs)

    def call(self, inputs):
        first, second = inputs
        return keras.ops.concatenate([first * self.alpha, second * (1.0 - self.alpha)], axis=-1)

    def compute_output_shape(self, input_shape):
        first, second = input_shape
        width = None if first[-1] is None or second[-1] is None else first[-1] + second[-1]
        return (*first[:-1], width)


@keras.saving.register_keras_serializable(package="helpers")
class TemporalCentering(layers.Layer):
    """Subtract each clip's mean frame: ``x[:, t] - mean_t x[:, t]`` (optionally its magnitude).

    What stays still (the background of a fixed camera) becomes ~0 and what moves
    remains. The mean is over all frames, so it does not depend on their order. No
    parameters.

    Args:
        absolute: Return ``|x - mean|``: *where* something moved, whatever its colour
            against the background (a moving dark actor and a bright one look alike).

    Call args:
        inputs: ``(batch, num_frames, ...)``.

    Returns:
        The same shape.
    """

    def __init__(self, absolute: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.absolute = bool(absolute)

    def call(self, inputs):
        centered = inputs - keras.ops.mean(inputs, axis=1, keepdims=True)
        return keras.ops.abs(centered) if self.absolute else centered

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(absolute=self.absolute)
        return config


@keras.saving.register_keras_serializable(package="helpers")
class WeightedAverage(_AlphaFusion):
    """``alpha * a + (1 - alpha) * b``: paper 002's fusion rule ``y = alpha f1(x) + (1 - alpha) f2(x)``.

    Used for the two-stream model's late fusion of class probabilities: the average of
    two probability vectors is again one. ``alpha`` is fixed (not trained) and stored in
    the layer's config.

    Args:
        alpha: Weight of the first input, in [0, 1].

    Call args:
        inputs: ``[a, b]``, both ``(batch, features)``.

    Returns:
        ``(batch, features)``.
    """

    def __init__(self, alpha: float = 0.5, **kwargs):
        super().__init__(alpha=alpha, **kwargs)

    def call(self, inputs):
        first, second = inputs
        return first * self.alpha + second * (1.0 - self.alpha)

    def compute_output_shape(self, input_shape):
        return input_shape[0]
