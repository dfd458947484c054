"""A Keras model's compiled forward passes for inference: the checks, the per-frame fast path, the two-stream
model's flow input. :mod:`helpers.inference` uses them for a ``.keras`` model (an exported ``.tflite`` file runs
through :class:`helpers.runtime.TFLitePredictor` instead, without TensorFlow).

* For models whose per-frame CNN ends at a layer named ``frame_features`` (the LRCN), each needed frame goes
  through the CNN once, in big batches, and only the layers after it (LSTM + classifier) run per window: the
  TimeDistributed part does not change when the window slides. Any other model (e.g. the ConvLSTM) runs on
  batches of windows through one compiled call. Both give ``model(window)``'s result.
* A model with an optical-flow input (the two-stream model of notebook 05) gets the Farnebäck flow of each clip
  or window computed on the fly (:func:`model_inputs`), with the settings
  :func:`helpers.flow.create_flow_dataset` uses by default.
* :func:`latency_ms` times the compiled forward pass of one clip (notebook 05's ``latency_ms`` column),
  :func:`median_ms` any callable (notebook 06's runtimes).
"""

from __future__ import annotations

import math
import time
import weakref

import keras
import numpy as np
import tensorflow as tf

from helpers.flow import farneback_flow
from helpers.models import model_spec
from helpers.runtime import CLIP_INPUT, FLOW_INPUT, ModelSpec

#: Layer where the LRCN's per-frame CNN ends (output ``(batch, num_frames, features)``).
FEATURE_LAYER = "frame_features"


def takes_flow(model: keras.Model) -> bool:
    """True for a model with an optical-flow input (the two-stream model): inference then
    computes the flow of each clip itself (:func:`model_inputs`)."""
    return FLOW_INPUT in {tensor.name for tensor in model.inputs}


def model_inputs(model: keras.Model, clips: np.ndarray) -> np.ndarray | dict[str, np.ndarray]:
    """What ``model`` takes for uint8 ``clips`` ``(batch, num_frames, size, size, 3)``.

    The clips themselves, or for a model with a flow input the dict
    ``{"clip": clips, "flow": float32 (batch, num_frames - 1, size, size, 2)}`` with the
    Farnebäck flow of each clip (:func:`helpers.flow.farneback_flow`, default settings,
    as :func:`helpers.flow.create_flow_dataset` computes it for training).
    """
    clips = np.asarray(clips, dtype=np.uint8)
    if not takes_flow(model):
        return clips
    flow = (np.stack([farneback_flow(clip) for clip in clips]) if len(clips)
            else np.empty((0, clips.shape[1] - 1, *clips.shape[2:4], 2), np.float32))
    return {CLIP_INPUT: clips, FLOW_INPUT: flow}


def check_model(model: keras.Model) -> ModelSpec:
    """What a model expects, after checking that inference can use it.

    Returns:
        The model's :class:`~helpers.models.ModelSpec` (class names, num_frames, image_size).

    Raises:
        ValueError: The model was not built by a ``helpers.models`` builder, stores no
            class names, or its input/output shapes disagree with its stored spec.
    """
    spec = model_spec(model)
    if not spec.class_names:
        raise ValueError(f"model {model.name!r} stores no class names; save it with "
                         "helpers.models.save_model(model, path, class_names=...)")
    size = spec.image_size
    expected = {CLIP_INPUT: (None, spec.num_frames, size, size, 3)}
    if takes_flow(model):
        expected[FLOW_INPUT] = (None, spec.num_frames - 1, size, size, 2)
    shapes = {tensor.name: tuple(tensor.shape) for tensor in model.inputs}
    if len(shapes) == 1 and CLIP_INPUT not in shapes:  # a single input may carry another name
        shapes = {CLIP_INPUT: next(iter(shapes.values()))}
    if shapes != expected:
        raise ValueError(f"model {model.name!r} takes input {shapes}, but its rescaling layer says {expected}")
    if model.output_shape[-1] != len(spec.class_names):
        raise ValueError(f"model {model.name!r} has {model.output_shape[-1]} outputs but "
                         f"{len(spec.class_names)} class names")
    return spec


def split_frame_model(model: keras.Model, *, feature_layer: str = FEATURE_LAYER
                      ) -> tuple[keras.Model, keras.Model] | None:
    """Cut a model at its per-frame feature layer: ``model(x) == head(encoder(x))``.

    Args:
        model: A model such as the LRCN, whose layer ``feature_layer`` outputs one
            feature vector per frame, computed from that frame alone.
        feature_layer: Name of that layer.

    Returns:
        ``(encoder, head)``: encoder maps uint8 ``(batch, num_frames, height, width, 3)``
        to ``(batch, num_frames, *feature_shape)``; head maps those features to
        ``(batch, num_classes)``. None when the model has no such layer (no fast path).
    """
    try:
        layer = model.get_layer(feature_layer)
    except ValueError:
        return None
    encoder = keras.Model(model.input, layer.output, name=f"{model.name}_encoder")
    head = keras.Model(layer.output, model.output, name=f"{model.name}_head")
    return encoder, head


class WindowPredictor:
    """Compiled forward passes of one model, for batches of windows or of single frames.

    Use :func:`window_predictor` to get a cached one (compiling takes a second).

    Args:
        model: A model built by ``helpers.models`` (it carries its spec).
        fast: True: require the per-frame fast path; False: never use it; None: use it
            when the model has a ``frame_features`` layer.
        batch_size: Windows per model call (the encoder takes ``batch_size * num_frames``
            frames per call, the same amount of CNN work).
    """

    def __init__(self, model: keras.Model, *, fast: bool | None = None, batch_size: int = 32):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.spec = check_model(model)
        self.batch_size = int(batch_size)
        self._model = model
        num_frames, size = self.spec.num_frames, self.spec.image_size
        clip_signature = tf.TensorSpec((None, num_frames, size, size, 3), tf.uint8)
        signature = clip_signature
        if takes_flow(model):  # the flow is computed per window (model_inputs); no per-frame fast path
            if fast:
                raise ValueError(f"model {model.name!r} takes optical flow, so it has no per-frame fast path")
            fast = False
            signature = {CLIP_INPUT: clip_signature,
                         FLOW_INPUT: tf.TensorSpec((None, num_frames - 1, size, size, 2), tf.float32)}
        self._clips = tf.function(lambda x: model(x, training=False), input_signature=[signature],
                                  reduce_retracing=True)
        parts = split_frame_model(model) if fast is not False else None
        if fast and parts is None:
            raise ValueError(f"model {model.name!r} has no {FEATURE_LAYER!r} layer, so no per-frame fast path")
        self.fast = parts is not None
        self.feature_shape: tuple[int, ...] | None = None
        if parts is not None:
            encoder, head = parts
            self.feature_shape = tuple(int(d) for d in encoder.output_shape[2:])
            feature_signature = tf.TensorSpec((None, num_frames, *self.feature_shape), head.inputs[0].dtype)
            self._encode = tf.function(lambda x: encoder(x, training=False), input_signature=[clip_signature],
                                       reduce_retracing=True)
            self._head = tf.function(lambda f: head(f, training=False), input_signature=[feature_signature],
                                     reduce_retracing=True)

    def predict_clips(self, clips: np.ndarray) -> np.ndarray:
        """The whole model on windows: uint8 ``(batch, num_frames, size, size, 3)`` -> ``(batch, num_classes)``
        (a two-stream model gets each window's optical flow too, :func:`model_inputs`)."""
        clips = np.asarray(clips, dtype=np.uint8)
        out = [self._clips(model_inputs(self._model, clips[i:i + self.batch_size])).numpy()
               for i in range(0, len(clips), self.batch_size)]
        return np.concatenate(out) if out else np.empty((0, len(self.spec.class_names)), np.float32)

    def encode_frames(self, frames: np.ndarray) -> np.ndarray:
        """The per-frame CNN on single frames (fast path only).

        Frames are independent in the encoder, so they are packed ``num_frames`` at a
        time into pseudo-clips (the last one zero-padded).

        Args:
            frames: uint8 ``(n, size, size, 3)``.

        Returns:
            ``(n, *feature_shape)`` features.
        """
        if not self.fast:
            raise ValueError("this model has no per-frame fast path; use predict_clips")
        frames = np.asarray(frames, dtype=np.uint8)
        n, num_frames = len(frames), self.spec.num_frames
        padded = np.zeros((math.ceil(n / num_frames) * num_frames, *frames.shape[1:]), np.uint8)
        padded[:n] = frames
        clips = padded.reshape(-1, num_frames, *frames.shape[1:])
        out = [self._encode(clips[i:i + self.batch_size]).numpy() for i in range(0, len(clips), self.batch_size)]
        features = np.concatenate(out) if out else np.empty((0, num_frames, *self.feature_shape), np.float32)
        return features.reshape(-1, *self.feature_shape)[:n]

    def predict_features(self, features: np.ndarray) -> np.ndarray:
        """The layers after the encoder (LSTM + classifier): ``(batch, num_frames, *feature_shape)``
        -> ``(batch, num_classes)`` (fast path only)."""
        if not self.fast:
            raise ValueError("this model has no per-frame fast path; use predict_clips")
        step = self.batch_size * self.spec.num_frames  # the head is tiny: big batches
        out = [self._head(features[i:i + step]).numpy() for i in range(0, len(features), step)]
        return np.concatenate(out) if out else np.empty((0, len(self.spec.class_names)), np.float32)


_PREDICTORS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def window_predictor(model: keras.Model, *, fast: bool | None = None, batch_size: int = 32) -> WindowPredictor:
    """A :class:`WindowPredictor` for ``model``, cached for the model's lifetime (no retracing)."""
    cache = _PREDICTORS.setdefault(model, {})
    if fast is None:  # resolve "automatic" so it shares the entry of the path it picks
        fast = FEATURE_LAYER in {layer.name for layer in model.layers} and not takes_flow(model)
    key = (fast, batch_size)
    if key not in cache:
        cache[key] = WindowPredictor(model, fast=fast, batch_size=batch_size)
    return cache[key]


def median_ms(fn, inputs, *, reps: int = 20, warmup: int = 2) -> float:
    """Median wall time (ms) of ``fn(inputs)`` over ``reps`` calls, after ``warmup`` untimed ones (tracing,
    memory allocation). ``fn`` must return its result computed (e.g. a NumPy array), not a pending one."""
    for _ in range(max(1, warmup)):
        fn(inputs)
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn(inputs)
        times.append((time.perf_counter() - start) * 1000.0)
    return float(np.median(times))


def latency_ms(model: keras.Model, inputs, *, reps: int = 20, warmup: int = 3) -> float:
    """Median wall time (ms) of one compiled forward pass of ``model`` on one clip.

    The model runs inside a ``tf.function`` (traced once during the warm-up), which is how a deployed model runs;
    ``model.predict`` adds milliseconds of Python overhead per call.

    Args:
        model: Any Keras model.
        inputs: One clip with its batch axis, ``(1, num_frames, height, width, 3)``, or a dict of such inputs for a
            multi-input model (:func:`model_inputs` gives both).
        reps: Timed repetitions (the median is returned).
        warmup: Untimed calls first.
    """
    forward = tf.function(lambda x: model(x, training=False))
    return median_ms(lambda x: np.asarray(forward(x)), inputs, reps=reps, warmup=warmup)
