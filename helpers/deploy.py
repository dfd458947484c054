"""Export a trained model for deployment (paper 000's "different computing platforms", paper 003's
quantization) and classify with the exported file through an interpreter only (notebook 06, the CLI).

* ``saved_model``: a TF SavedModel (Keras 3's :class:`keras.export.ExportArchive`, endpoint ``serve``,
  any batch size), what TF Serving loads.
* ``tflite``: a LiteRT/TFLite flatbuffer, float32 or quantized (``float16``, ``dynamic`` range, full
  ``int8`` calibrated on *training* clips). Its signature takes one clip (batch 1): the converter fuses a
  Keras LSTM into one ``UNIDIRECTIONAL_SEQUENCE_LSTM`` op only when the batch size is static, and
  ``TFLiteConverter.from_keras_model`` on a dynamic batch fails ("'tf.TensorListReserve' op requires
  element_shape to be static"). Each fusable LSTM is traced as a ``tf.function`` carrying the
  ``api_implements="lstm_..."`` contract the converter looks for (:class:`_FusableLSTM`).
  Full int8 uses one scale per tensor by default (:func:`export_model`), and the names of the graph's
  inner tensors are left out of the file (:func:`_strip_tensor_names`).
* What inference needs (class names, ``num_frames``, ``image_size``, the inputs) is written atomically
  to a sidecar ``<file>.json`` (:func:`metadata_path`) with the file's SHA-256, checked on load
  (:func:`helpers.runtime.read_metadata`), and the model's card (:mod:`helpers.cards`) when it has one.

:class:`helpers.runtime.TFLitePredictor` runs a ``.tflite`` file with ``ai_edge_litert`` (LiteRT, without
TensorFlow); it, :func:`metadata_path`, :func:`read_metadata` and :func:`load_for_inference` are importable
from here too, their old path.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from helpers.atomic import atomic_write, write_text
from helpers.inference import load_for_inference  # noqa: F401  (its old import path)
from helpers.keras_compat import disable_per_channel
from helpers.models import card_of
from helpers.predictor import check_model, model_inputs
from helpers.runtime import TFLitePredictor, file_sha256, metadata_path, read_metadata  # noqa: F401  (old paths)

FORMATS = ("saved_model", "tflite")
QUANTIZATIONS = ("none", "float16", "dynamic", "int8")


class _ServedAs(keras.layers.Layer):
    """``layer`` computed another way for the TFLite converter: same name, weights and output shape."""

    def __init__(self, layer: keras.layers.Layer):
        super().__init__(name=layer.name)
        self.layer = layer

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)


class _FusableLSTM(_ServedAs):
    """A Keras LSTM (same weights) whose recurrence is one ``tf.function`` marked ``api_implements="lstm_..."``:
    the TFLite converter replaces it by ``UNIDIRECTIONAL_SEQUENCE_LSTM`` (arguments ``(x, h0, c0, kernel,
    recurrent_kernel, bias)``, five results, batch-major; gates in Keras' order i, f, c, o)."""

    def __init__(self, lstm: keras.layers.LSTM):
        super().__init__(lstm)
        self.fused = tf.function(self._recurrence, experimental_attributes={
            "api_implements": f"lstm_{lstm.name}", "time_major": False, "go_backwards": False})

    @staticmethod
    def _recurrence(x, h, c, kernel, recurrent_kernel, bias):
        def step(state, x_t):
            i, f, g, o = tf.split(tf.matmul(x_t, kernel) + tf.matmul(state[0], recurrent_kernel) + bias, 4, axis=1)
            c_t = tf.sigmoid(f) * state[1] + tf.sigmoid(i) * tf.tanh(g)
            return tf.sigmoid(o) * tf.tanh(c_t), c_t

        hs, cs = tf.scan(step, tf.transpose(x, [1, 0, 2]), initializer=(h, c))
        return hs[-1], tf.transpose(hs, [1, 0, 2]), hs[-1], cs[-1], tf.constant(0.0)

    def call(self, x, mask=None, training=None):
        cell = self.layer.cell
        zeros = tf.zeros(tf.stack([tf.shape(x)[0], cell.units]), x.dtype)
        last, sequence, *_ = self.fused(x, zeros, zeros, *(tf.convert_to_tensor(w) for w in
                                                                     (cell.kernel, cell.recurrent_kernel, cell.bias)))
        return sequence if self.layer.return_sequences else last


class _MaxPool3DAs2D(_ServedAs):
    """A channels-last ``MaxPooling3D`` as two ``MAX_POOL_2D`` ops (space per frame, then time):
    TFLite has no 3D max pool, and a max over a box is a max over its axes one after the other."""

    def call(self, x, mask=None):
        (kt, kh, kw), (st, sh, sw), padding = self.layer.pool_size, self.layer.strides, self.layer.padding.upper()
        _, t, h, w, c = x.shape
        y = tf.nn.max_pool2d(tf.reshape(x, (-1, h, w, c)), (kh, kw), (sh, sw), padding)
        h, w = y.shape[1:3]
        y = tf.nn.max_pool2d(tf.reshape(y, (-1, t, h * w, c)), (kt, 1), (st, 1), padding)
        return tf.reshape(y, (-1, y.shape[1], h, w, c))


class _Conv3DAsConv2D(_ServedAs):
    """A stride-1 channels-last ``Conv3D`` as a sum of ``CONV_2D`` ops, one per time tap: TFLite's ``CONV_3D``
    has a float32 kernel only (a 3D CNN's int8 file kept float weights and ran 4x slower than Keras).
    Output frame ``t`` adds tap ``i``'s 2D convolution of input frame ``t + i`` (after TensorFlow's
    padding of ``kt - 1`` frames for ``"same"``)."""

    def call(self, x, mask=None):
        conv, kt = self.layer, self.layer.kernel_size[0]
        _, _, h, w, c = x.shape
        if conv.padding == "same":
            x = tf.pad(x, [[0, 0], [(kt - 1) // 2, kt // 2], [0, 0], [0, 0], [0, 0]])
        steps = x.shape[1] - kt + 1
        y = tf.add_n([tf.nn.conv2d(tf.reshape(x[:, i:steps + i], (-1, h, w, c)), conv.kernel[i], 1,
                                   conv.padding.upper()) for i in range(kt)])
        y = tf.reshape(y, (-1, steps, *y.shape[1:]))
        return conv.activation(y + conv.bias if conv.use_bias else y)


class _AreaResizeAsPool(_ServedAs):
    """An area ``Resizing`` by a whole factor (bare or in a ``FoldedTimeDistributed``) as ``AVERAGE_POOL_2D``:
    TFLite has no area resize, and shrinking by ``factor`` averages ``factor x factor`` blocks."""

    def __init__(self, layer: keras.layers.Layer, factor: int):
        super().__init__(layer)
        self.factor = factor

    def call(self, x, mask=None):
        *lead, h, w, c = x.shape
        y = tf.nn.avg_pool2d(tf.reshape(x, (-1, h, w, c)), self.factor, self.factor, "VALID")
        return tf.reshape(y, (-1, *lead[1:], *y.shape[1:]))


def _serving_layer(layer: keras.layers.Layer) -> keras.layers.Layer:
    """The layer as the TFLite graph computes it: a plain LSTM (tanh/sigmoid, a bias, forwards, no state
    in or out) fused, a 3D max pool as 2D pools, a stride-1 3D convolution as a 2D one, an area resize
    by a whole factor as an average pool, a nested model (bare or in a ``TimeDistributed``, e.g. a
    transferred frame encoder) with its own layers served so; any other layer itself (same weights)."""
    if isinstance(layer, keras.Model):
        return keras.models.clone_model(layer, clone_function=_serving_layer)
    if isinstance(layer, keras.layers.TimeDistributed) and isinstance(layer.layer, keras.Model):
        return type(layer)(_serving_layer(layer.layer), name=layer.name)
    if isinstance(layer, keras.layers.MaxPooling3D) and layer.data_format == "channels_last":
        return _MaxPool3DAs2D(layer)
    if isinstance(layer, keras.layers.Conv3D) and layer.data_format == "channels_last" and layer.groups == 1 \
            and set(layer.strides) | set(layer.dilation_rate) == {1}:
        return _Conv3DAsConv2D(layer)
    inner = getattr(layer, "layer", layer)
    if isinstance(inner, keras.layers.Resizing) and inner.interpolation == "area":
        h, w = layer.input.shape[-3:-1]
        if h % inner.height == 0 and h // inner.height == w / inner.width:
            return _AreaResizeAsPool(layer, h // inner.height)
    cell = getattr(layer, "cell", None)
    if isinstance(layer, keras.layers.LSTM) and not (layer.go_backwards or layer.stateful or layer.return_state) \
            and cell.activation is keras.activations.tanh and cell.recurrent_activation is keras.activations.sigmoid \
            and cell.use_bias:
        return _FusableLSTM(layer)
    return layer


def _strip_tensor_names(flatbuffer: bytes) -> bytes:
    """The TFLite file without the names of its inner tensors and its description; the signature's inputs
    and outputs keep theirs.

    The converter names each tensor after every TF op fused into it (up to 180 bytes each): about 3 KiB of
    the LRCN's files, 158 KiB of the unrolled ConvLSTM's int8 file, read by nothing but a debugger.
    TensorFlow's ``flatbuffer_utils.strip_strings`` also drops the signature defs that LiteRT's signature
    runner (:class:`TFLitePredictor`) needs, hence this variant on the same tools.
    """
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(flatbuffer))
    served = {(signature.subgraphIndex, t.tensorIndex) for signature in model.signatureDefs or []
              for t in (signature.inputs or []) + (signature.outputs or [])}
    model.description = None
    for index, subgraph in enumerate(model.subgraphs):
        for tensor_index, tensor in enumerate(subgraph.tensors):
            if (index, tensor_index) not in served:
                tensor.name = None
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def export_model(model: keras.Model, path: str | os.PathLike, *, format: str = "tflite", quantize: str = "none",
                 representative_clips: np.ndarray | None = None, per_channel: bool = False,
                 card: dict | None = None) -> Path:
    """Export ``model`` with its metadata sidecar, both written atomically.

    Args:
        model: A model built by ``helpers.models`` (it carries class names, frames and size).
        path: The ``.tflite`` file or the SavedModel folder to write.
        format: ``"saved_model"`` or ``"tflite"``.
        quantize: TFLite only: ``"none"`` (float32), ``"float16"`` weights, ``"dynamic"`` (int8 weights,
            float activations) or ``"int8"`` (weights and activations, calibrated on ``representative_clips``).
        representative_clips: uint8 ``(num_clips, num_frames, size, size, 3)`` *training* clips (``int8`` only).
        per_channel: ``int8`` only. False (default): one scale per weight tensor, the integer scheme of
            Jacob et al. (2018) that integer-only accelerators take. True: one scale and one 64-bit zero point
            per output channel, the converter's own default, which matters most for depthwise convolutions
            (Krishnamoorthi 2018) and costs 12 bytes a channel (4 KiB of the LRCN's 83 KiB file; notebook 06
            measures both). Per-tensor is the converter's ``_experimental_disable_per_channel`` switch: its
            only route, checked to exist and tested to take effect.
        card: The model card the sidecar carries (key ``card``, :mod:`helpers.cards`); None: the card of the file
            the model was saved to or loaded from, while its weights are unchanged (:func:`helpers.models.card_of`).

    Returns:
        ``path``; its metadata is at :func:`metadata_path` ``(path)``.
    """
    spec, path = check_model(model), Path(path)
    if format not in FORMATS or quantize not in QUANTIZATIONS or (format == "saved_model" and quantize != "none"):
        raise ValueError(f"{path}: cannot export format={format!r} quantize={quantize!r} (formats {FORMATS}; "
                         f"quantize {QUANTIZATIONS}, tflite only)")
    if (quantize == "int8") != (representative_clips is not None):
        raise ValueError(f"{path}: representative_clips (training clips) are needed for int8 and only for int8")
    if per_channel and quantize != "int8":
        raise ValueError(f"{path}: per_channel applies to int8 only, not quantize={quantize!r}")
    batch = 1 if format == "tflite" else None  # a static batch lets the converter fuse the LSTM
    served = keras.models.clone_model(model, clone_function=_serving_layer) if format == "tflite" else model
    names = [tensor.name for tensor in model.inputs]
    archive = keras.export.ExportArchive()
    archive.track(served)
    archive.add_endpoint("serve", lambda *x: served(list(x) if len(x) > 1 else x[0], training=False), input_signature=[
        tf.TensorSpec((batch, *t.shape[1:]), t.dtype, name=n) for n, t in zip(names, model.inputs, strict=True)])
    if format == "saved_model":
        with atomic_write(path, directory=True) as tmp:
            archive.write_out(str(tmp), verbose=False)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            archive.write_out(tmp, verbose=False)
            converter = tf.lite.TFLiteConverter.from_saved_model(tmp)
            if quantize != "none":
                converter.optimizations = [tf.lite.Optimize.DEFAULT]
            if quantize == "float16":
                converter.target_spec.supported_types = [tf.float16]
            if quantize == "int8":
                converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
                if not per_channel:
                    disable_per_channel(converter, path=path)
                converter.representative_dataset = lambda: (  # named like the signature's inputs
                    x if isinstance(x := model_inputs(model, clip[None]), dict) else {names[0]: x}
                    for clip in representative_clips)
            flatbuffer = _strip_tensor_names(converter.convert())
        with atomic_write(path, suffix=".tflite") as tmp:
            Path(tmp).write_bytes(flatbuffer)
    card = card_of(model) if card is None else card
    write_text(metadata_path(path), json.dumps({
        "format": format, "quantize": quantize, "per_channel": per_channel if quantize == "int8" else None,
        "model": model.name, "class_names": list(spec.class_names),
        "num_frames": spec.num_frames, "image_size": spec.image_size, "inputs": names, "sha256": file_sha256(path),
        **({"card": card} if card else {})}, indent=1))
    return path
