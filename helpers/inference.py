"""Classify a video: one prediction per video, or a stream of predictions over sliding
windows without flicker (paper 001's testing phase, with the original code's defects fixed).

* :func:`predict_single_action` samples frames exactly as training did
  (:func:`helpers.data.sample_indices` over the whole clip) and runs one forward pass.
* :func:`predict_on_video` slides a window over the video. The original code fed
  ``num_frames`` *consecutive* frames (0.8 s at 25 fps) to a model trained on
  ``num_frames`` frames spread over a whole clip (several seconds): a different time
  scale. Here a window spans about one training clip (``window`` seconds) and takes
  ``num_frames`` frames spread over it with the same ``sample_indices``. Probabilities
  are averaged over the last ``smoothing`` windows to remove flicker (paper 001's
  "prediction flickering", cured "through averaging").
* Speed: the video is decoded once, sequentially; there is no ``model.predict`` per
  frame. For models whose per-frame CNN ends at a layer named ``frame_features`` (the
  LRCN), each needed frame goes through the CNN once, in big batches, and only the
  layers after it (LSTM + classifier) run per window: the TimeDistributed part does
  not change when the window slides. Any other model (e.g. the ConvLSTM) runs on
  batches of windows through one compiled call. Both give ``model(window)``'s result.
* A model with an optical-flow input (the two-stream model of notebook 05) gets the
  Farnebäck flow of each clip or window computed on the fly (:func:`model_inputs`), with
  the settings :func:`helpers.flow.create_flow_dataset` uses by default.
"""

from __future__ import annotations

import itertools
import math
import os
import warnings
import weakref
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

import av
import cv2
import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from tqdm.auto import tqdm

# open_video, decode_frames and frame_to_rgb are the exact decode and resize/colour steps training uses
from helpers.atomic import atomic_write, replace, temp_path
from helpers.data import VideoReadError, frame_extraction, open_video, sample_indices
from helpers.flow import farneback_flow
from helpers.models import CLIP_INPUT, FLOW_INPUT, ModelSpec, model_spec
from helpers.video import decode_frames, frame_to_rgb, rgb_array

#: Layer where the LRCN's per-frame CNN ends (output ``(batch, num_frames, features)``).
FEATURE_LAYER = "frame_features"
#: Default window span: the mean embedded-dataset training clip (40-90 frames at 25 fps,
#: mean 65 frames = 2.6 s). UCF50's clips average 199 frames at 26 fps (7.6 s): pass
#: ``window=7.6`` for a UCF50 model, or the median duration of your training clips.
DEFAULT_WINDOW_S = 2.6
#: Default stride: 5 frames at 25 fps, so 5 smoothed windows cover the last second.
DEFAULT_STRIDE_S = 0.2
DEFAULT_SMOOTHING = 5
#: Frame rate assumed when a container does not state one.
FALLBACK_FPS = 25.0
_FOURCC = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "MJPG"}
#: Codecs of the annotated video by suffix, best first: H.264 (what browsers play) where
#: PyAV's FFmpeg has libx264 (its wheels do), else the fall-back.
ANNOTATED_CODECS = {".mp4": ("libx264", "mpeg4"), ".m4v": ("libx264", "mpeg4"), ".mov": ("libx264", "mpeg4"),
                    ".mkv": ("libx264", "mjpeg"), ".avi": ("mjpeg",)}
#: Longest side of the annotated video: larger inputs (4K phone clips) are downscaled to it as
#: they are decoded, so the frames waiting for their label hold bounded memory whatever the input.
ANNOTATED_MAX_SIDE = 1280
#: With an annotated video, the model runs at least every this many frames, so that frames wait for
#: their label at most one window + this many frames (``make bench``: 8 s of 4K peaks at 1.24 GB,
#: 1.69 GB with 128, the chunk without a writer).
WRITER_CHUNK_FRAMES = 32


def label_frame(frame_rgb: np.ndarray, text: str, *, scale: float = 0.5) -> np.ndarray:
    """A copy of ``frame_rgb`` with ``text`` written in its top-left corner (paper 001 Figure 7)."""
    out = frame_rgb.copy()
    thickness = max(1, int(round(2 * scale)))
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    cv2.rectangle(out, (0, 0), (w + 8, h + base + 8), (0, 0, 0), -1)
    cv2.putText(out, text, (4, h + 4), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness, cv2.LINE_AA)
    return out


class ActionPrediction(NamedTuple):
    """One prediction for a whole video; unpacks as ``(label, confidence, probabilities)``."""

    label: str
    confidence: float
    probabilities: dict[str, float]  # every class name -> probability, in the model's class order

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` most probable ``(class_name, probability)`` pairs, best first."""
        return sorted(self.probabilities.items(), key=lambda item: item[1], reverse=True)[:k]


def _as_prediction(probabilities: np.ndarray, class_names: Sequence[str]) -> ActionPrediction:
    best = int(np.argmax(probabilities))
    return ActionPrediction(class_names[best], float(probabilities[best]),
                            {name: float(p) for name, p in zip(class_names, probabilities, strict=True)})


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


def predict_single_action(model: keras.Model, video_path: str | os.PathLike) -> ActionPrediction:
    """Classify a whole video with one forward pass, sampling frames as training did.

    ``num_frames`` frames spread over the whole video (:func:`helpers.data.sample_indices`),
    resized to ``image_size``, RGB; both numbers come from the model itself.

    Args:
        model: A model built by ``helpers.models`` (e.g. loaded with ``load_model``), or an exported
            model's :class:`helpers.deploy.TFLitePredictor`.
        video_path: Any file FFmpeg decodes.

    Returns:
        ``(label, confidence, probabilities)`` as an :class:`ActionPrediction`.

    Raises:
        VideoReadError: Missing, unreadable, or shorter than the model's ``num_frames``.
        ValueError: The model cannot be used (see :func:`check_model`).
    """
    exported = hasattr(model, "predict_clips")  # an exported model's predictor (helpers.deploy.TFLitePredictor)
    spec = model.spec if exported else check_model(model)
    clip = frame_extraction(video_path, num_frames=spec.num_frames, image_size=spec.image_size)
    # one clip: an eager call beats compiling a graph first
    probabilities = (model.predict_clips(clip[None]) if exported
                     else model(model_inputs(model, clip[None]), training=False))
    return _as_prediction(np.asarray(probabilities)[0], spec.class_names)


def count_label_changes(labels: Sequence | np.ndarray) -> int:
    """How often consecutive labels differ (flicker; 0 for a constant sequence)."""
    labels = np.asarray(labels)
    return int(np.count_nonzero(labels[1:] != labels[:-1])) if len(labels) > 1 else 0


@dataclass(frozen=True, eq=False)
class VideoPrediction:
    """Per-window predictions of :func:`predict_on_video`.

    Attributes:
        video_path: The classified file.
        class_names: Labels of the probability columns.
        fps: Frame rate used for the timestamps.
        total_frames: Frames decoded.
        window_frames, stride_frames: Window span and step, in frames.
        smoothing: Windows averaged in ``smoothed``.
        starts, ends: ``(num_windows,)`` first frame and one past the last frame of each window.
        frame_indices: ``(num_windows, num_frames)`` frames fed to the model.
        probabilities: ``(num_windows, num_classes)`` raw model outputs.
        smoothed: ``(num_windows, num_classes)`` moving average over the last ``smoothing`` windows.
        fast_path: True when the per-frame encoder + head path ran.
        output_path: The annotated video, if one was written.
    """

    video_path: Path
    class_names: tuple[str, ...]
    fps: float
    total_frames: int
    window_frames: int
    stride_frames: int
    smoothing: int
    starts: np.ndarray = field(repr=False)
    ends: np.ndarray = field(repr=False)
    frame_indices: np.ndarray = field(repr=False)
    probabilities: np.ndarray = field(repr=False)
    smoothed: np.ndarray = field(repr=False)
    fast_path: bool = True
    output_path: Path | None = None

    @property
    def num_windows(self) -> int:
        return len(self.starts)

    @property
    def start_s(self) -> np.ndarray:
        """``(num_windows,)`` window start times in seconds."""
        return self.starts / self.fps

    @property
    def end_s(self) -> np.ndarray:
        """``(num_windows,)`` window end times in seconds (when a live stream would know the result)."""
        return self.ends / self.fps

    def labels(self, *, smoothed: bool = False) -> np.ndarray:
        """``(num_windows,)`` class name of every window, raw or smoothed."""
        p = self.smoothed if smoothed else self.probabilities
        return np.asarray(self.class_names, dtype=object)[p.argmax(axis=1)]

    def label_changes(self, *, smoothed: bool = False) -> int:
        """Flicker: how often the label of consecutive windows changes."""
        return count_label_changes(self.labels(smoothed=smoothed))

    @property
    def video_label(self) -> ActionPrediction:
        """One prediction for the whole video: the mean of every window's probabilities."""
        return _as_prediction(self.probabilities.mean(axis=0), self.class_names)

    def to_frame(self) -> pd.DataFrame:
        """One row per window: times, raw and smoothed label/confidence, and every probability."""
        raw, smooth = self.probabilities, self.smoothed
        table = pd.DataFrame({
            "start_s": self.start_s, "end_s": self.end_s,
            "label": self.labels(), "confidence": raw.max(axis=1),
            "smoothed_label": self.labels(smoothed=True), "smoothed_confidence": smooth.max(axis=1),
        })
        for j, name in enumerate(self.class_names):
            table[f"p_{name}"] = raw[:, j]
        return table


class _AnnotatedWriter:
    """Writes every decoded frame, downscaled to :data:`ANNOTATED_MAX_SIDE`, with the (smoothed)
    label of the latest finished window, at the input's average frame rate."""

    def __init__(self, path: Path, *, fps: float):
        codecs = [c for c in ANNOTATED_CODECS.get(path.suffix.lower(), ()) if c in av.codecs_available]
        if not codecs:
            raise ValueError(f"{path}: annotated video must end in one of {sorted(ANNOTATED_CODECS)}")
        self.path, self.tmp = path, temp_path(path, suffix=path.suffix)  # the container is picked by the suffix
        self.container = av.open(str(self.tmp), "w")
        self.stream = self.container.add_stream(codecs[0], rate=Fraction(fps).limit_denominator(1001),
                                                options={"preset": "veryfast"} if codecs[0] == "libx264" else {})
        self.stream.pix_fmt = "yuvj420p" if codecs[0] == "mjpeg" else "yuv420p"
        self.size: tuple[int, int] | None = None  # (width, height) every decoded frame is scaled to
        self.pending: deque[tuple[int, np.ndarray]] = deque()  # frames (RGB) waiting for their label

    def add(self, index: int, frame: av.VideoFrame) -> None:
        first = self.size is None
        if first:  # even sides: yuv420p
            scale = min(1.0, ANNOTATED_MAX_SIDE / max(frame.width, frame.height))
            self.size = (2 * max(1, round(frame.width * scale / 2)), 2 * max(1, round(frame.height * scale / 2)))
        rgb = rgb_array(frame, width=self.size[0], height=self.size[1])
        if first:  # the stream's size is the upright frame's (a rotation swaps the sides)
            self.stream.height, self.stream.width = rgb.shape[:2]
        self.pending.append((index, rgb))

    def flush(self, ends: np.ndarray, texts: list[str]) -> None:
        """Label and write every pending frame; frame f shows the last window with end - 1 <= f
        (what a live stream would show), frames before the first window's end the first window."""
        while self.pending and texts:
            index, rgb = self.pending.popleft()
            j = max(int(np.searchsorted(ends - 1, index, side="right")) - 1, 0)
            frame = av.VideoFrame.from_ndarray(label_frame(rgb, texts[j], scale=max(0.4, rgb.shape[1] / 640)), "rgb24")
            frame.pts = index
            self.container.mux(self.stream.encode(frame))

    def close(self, *, ok: bool) -> None:
        if ok:
            self.container.mux(self.stream.encode())  # the encoder's delayed frames
        self.container.close()
        if ok:
            replace(self.tmp, self.path)  # atomic: never a half-written annotated video
        self.tmp.unlink(missing_ok=True)


def predict_on_video(
    model: keras.Model,
    video_path: str | os.PathLike,
    output_path: str | os.PathLike | None = None,
    *,
    window: float | None = None,
    stride: float = DEFAULT_STRIDE_S,
    smoothing: int = DEFAULT_SMOOTHING,
    fps: float | None = None,
    fast: bool | None = None,
    batch_size: int = 32,
    chunk_frames: int = 128,
    progress: bool = False,
) -> VideoPrediction:
    """Classify sliding windows over a video in one sequential decode pass.

    Window ``k`` spans ``window`` seconds from ``k * stride`` seconds and feeds the
    model ``num_frames`` frames spread over it with :func:`helpers.data.sample_indices`: a window of
    about one training clip's duration looks like a training clip. The default
    ``window`` is the mean embedded-dataset clip (2.6 s); pass the median duration of
    *your* training clips, e.g. 7.6 s for UCF50. When the default window holds fewer than
    ``num_frames`` frames (a low frame rate: timelapse, CCTV), it grows to the shortest that
    holds them, and a warning says so.

    Frames are decoded once, in order; only the frames some window samples are resized
    and go through the model, ``chunk_frames`` frames at a time. With a
    ``frame_features`` layer (the LRCN) each such frame goes through the CNN once and
    only the LSTM + classifier run per window; any other model runs on batches of
    windows. Either way the result equals ``model(window)``.

    Args:
        model: A model built by ``helpers.models`` (num_frames, image_size and class
            names come from it), or an exported model's :class:`helpers.deploy.TFLitePredictor`.
        video_path: Any file FFmpeg decodes.
        output_path: If given, write a copy of the video (``.mp4``, ``.mov``, ``.mkv``:
            H.264 where PyAV has it, :data:`ANNOTATED_CODECS`; ``.avi``: MJPEG) with the
            smoothed label and confidence on every frame, every input frame (at the input's
            average frame rate), downscaled to :data:`ANNOTATED_MAX_SIDE`: each frame shows the latest
            window that has ended by then, as a live stream would; frames before the
            first window ends show the first window.
        window: Window span in seconds (at least ``num_frames`` frames); None:
            :data:`DEFAULT_WINDOW_S`, grown to ``num_frames`` frames at low frame rates.
        stride: Step between windows in seconds (at least one frame).
        smoothing: Windows in the causal moving average of the probabilities (1: none).
        fps: Frame rate for timestamps; None reads it from the file (25 if missing).
        fast: Force (True) or forbid (False) the per-frame fast path; None: automatic.
        batch_size: Windows per model call.
        chunk_frames: Frames decoded between model calls (at most :data:`WRITER_CHUNK_FRAMES`
            with ``output_path``). Bounds memory: with ``output_path`` about
            ``chunk_frames`` + one window of frames of at most :data:`ANNOTATED_MAX_SIDE`
            pixels are held (frames wait for their label).
        progress: Show a tqdm progress bar.

    Returns:
        A :class:`VideoPrediction` with timestamps, raw and smoothed probabilities.

    Raises:
        VideoReadError: Missing or unreadable file, or fewer frames than ``num_frames``.
        ValueError: A ``window`` given shorter than ``num_frames`` frames, or an unusable model.
    """
    path = Path(video_path)
    if smoothing < 1:
        raise ValueError(f"smoothing must be >= 1 window, got {smoothing}")
    if chunk_frames < 1:
        raise ValueError(f"chunk_frames must be >= 1, got {chunk_frames}")
    # an exported model's predictor (helpers.deploy.TFLitePredictor) runs whole windows, one per call
    predictor = model if hasattr(model, "predict_clips") else window_predictor(model, fast=fast, batch_size=batch_size)
    spec = predictor.spec
    num_frames, image_size = spec.num_frames, spec.image_size
    container = open_video(path)
    writer: _AnnotatedWriter | None = None
    ok = False
    try:
        video_fps = float(fps or container.streams.video[0].average_rate or 0)
        if not (math.isfinite(video_fps) and video_fps > 0):
            warnings.warn(f"{path}: no frame rate in the file; assuming {FALLBACK_FPS} fps", stacklevel=2)
            video_fps = FALLBACK_FPS
        window_frames = int(round((window or DEFAULT_WINDOW_S) * video_fps))
        stride_frames = max(1, int(round(stride * video_fps)))
        if window is None and window_frames < num_frames:
            window_frames = num_frames
            warnings.warn(f"{path}: {video_fps:g} fps; the window grows from {DEFAULT_WINDOW_S:g} s to "
                          f"{num_frames / video_fps:.2f} s to hold the model's num_frames={num_frames}", stacklevel=2)
        if window_frames < num_frames:
            raise ValueError(f"window={window:g} s is {window_frames} frames at {video_fps:g} fps, fewer than the "
                             f"model's num_frames={num_frames}; use a window of at least "
                             f"{num_frames / video_fps:.2f} s")
        offsets = sample_indices(window_frames, num_frames)
        if output_path is not None:
            writer = _AnnotatedWriter(Path(output_path), fps=video_fps)
            chunk_frames = min(chunk_frames, WRITER_CHUNK_FRAMES)  # frames wait for their label: bounded memory

        store: dict[int, np.ndarray] = {}  # frame index -> features (fast) or small frame (generic)
        pending: list[tuple[int, np.ndarray]] = []  # needed frames not encoded yet (fast path)
        early: list[np.ndarray] | None = []  # every frame until one window ends: fallback for short videos
        starts: list[int] = []
        raw: list[np.ndarray] = []
        smoothed: list[np.ndarray] = []
        texts: list[str] = []
        next_start = 0
        decoded = 0

        def flush() -> None:
            nonlocal next_start
            if pending:
                features = predictor.encode_frames(np.stack([frame for _, frame in pending]))
                store.update(zip((i for i, _ in pending), features, strict=True))
                pending.clear()
            new_starts = []
            while next_start + window_frames <= decoded:
                new_starts.append(next_start)
                next_start += stride_frames
            if new_starts:
                rows = np.asarray(new_starts)[:, None] + offsets
                batch = np.stack([np.stack([store[i] for i in row]) for row in rows])
                probs = predictor.predict_features(batch) if predictor.fast else predictor.predict_clips(batch)
                _append(probs, new_starts)
                for index in list(itertools.takewhile(lambda i: i < next_start, store)):
                    del store[index]  # no later window starts before next_start

        def _append(probs: np.ndarray, new_starts: list[int]) -> None:
            for start, p in zip(new_starts, probs, strict=True):
                starts.append(start)
                raw.append(p)
                s = np.mean(raw[-smoothing:], axis=0)
                smoothed.append(s)
                best = int(np.argmax(s))
                texts.append(f"{spec.class_names[best]} {s[best]:.0%}")

        bar = tqdm(total=int(container.streams.video[0].frames or 0) or None, unit="frame",
                   desc=f"Classifying {path.name[:30]}", disable=not progress)
        with bar:
            for frame in decode_frames(container):
                index = decoded
                d = index - offsets
                needed = bool(np.any((d >= 0) & (d % stride_frames == 0)))
                keep_early = early is not None and index < window_frames
                if needed or keep_early:
                    small = frame_to_rgb(frame, image_size)
                    if keep_early:
                        early.append(small)
                    if needed and predictor.fast:
                        pending.append((index, small))
                    elif needed:
                        store[index] = small
                if writer is not None:
                    writer.add(index, frame)
                decoded += 1
                bar.update(1)
                if decoded % chunk_frames == 0:
                    flush()
                    if starts:
                        early = None
                    if writer is not None:
                        writer.flush(np.asarray(starts) + window_frames, texts)
            flush()
        if decoded == 0:
            raise VideoReadError(path, "no decodable frames (corrupt or not a video)")
        if decoded < num_frames:
            raise VideoReadError(path, f"too short: {decoded} frames, the model needs at least "
                                       f"num_frames={num_frames}")
        if starts:
            starts_arr = np.asarray(starts, dtype=np.int64)
            ends = starts_arr + window_frames
            frame_indices = starts_arr[:, None] + offsets
        else:  # shorter than one window: the whole video is the window, sampled as in training
            frame_indices = sample_indices(decoded, num_frames)[None]
            _append(predictor.predict_clips(np.stack([early[i] for i in frame_indices[0]])[None]), [0])
            starts_arr, ends = np.zeros(1, np.int64), np.asarray([decoded], dtype=np.int64)
        if writer is not None:
            writer.flush(ends, texts)
        ok = True
    finally:
        container.close()
        if writer is not None:
            writer.close(ok=ok)
    return VideoPrediction(
        video_path=path, class_names=spec.class_names, fps=video_fps, total_frames=decoded,
        window_frames=window_frames, stride_frames=stride_frames, smoothing=smoothing,
        starts=starts_arr, ends=ends, frame_indices=frame_indices,
        probabilities=np.stack(raw).astype(np.float32), smoothed=np.stack(smoothed).astype(np.float32),
        fast_path=predictor.fast, output_path=Path(output_path) if output_path is not None else None,
    )


def concatenate_videos(video_paths: Sequence[str | os.PathLike], output_path: str | os.PathLike, *,
                       fps: float | None = None, frame_size: tuple[int, int] | None = None) -> np.ndarray:
    """Join videos end to end into one file: a long test video with known segments.

    Args:
        video_paths: Videos in playing order.
        output_path: ``.mp4`` (MPEG-4 part 2) or ``.avi`` (MJPG).
        fps: Frame rate of the output; None keeps the first video's (25 if it has none).
        frame_size: ``(width, height)``; None keeps the first video's size (others are resized).

    Returns:
        int64 ``(num_videos + 1,)`` segment boundaries: video ``i`` fills frames
        ``[bounds[i], bounds[i + 1])`` of the output.
    """
    output_path = Path(output_path)
    fourcc = _FOURCC.get(output_path.suffix.lower())
    if fourcc is None:
        raise ValueError(f"{output_path}: output must end in one of {sorted(_FOURCC)}")
    bounds = [0]
    writer = None
    with atomic_write(output_path, suffix=output_path.suffix) as tmp:  # cv2 picks the container by the suffix
        try:
            for path in video_paths:
                container = open_video(Path(path))
                count = 0
                try:
                    for decoded in decode_frames(container):
                        frame = cv2.cvtColor(rgb_array(decoded), cv2.COLOR_RGB2BGR)
                        if writer is None:
                            frame_size = frame_size or (frame.shape[1], frame.shape[0])
                            fps = fps or float(container.streams.video[0].average_rate or FALLBACK_FPS)
                            writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*fourcc), fps, frame_size)
                            if not writer.isOpened():
                                raise ValueError(f"{output_path}: cv2.VideoWriter cannot write {fourcc!r} here")
                        if (frame.shape[1], frame.shape[0]) != frame_size:
                            frame = cv2.resize(frame, frame_size, interpolation=cv2.INTER_AREA)
                        writer.write(frame)
                        count += 1
                finally:
                    container.close()
                bounds.append(bounds[-1] + count)
            if writer is None:
                raise ValueError("no frames to write: every input video is empty")
        finally:
            if writer is not None:
                writer.release()  # before the rename: the file is complete
    return np.asarray(bounds, dtype=np.int64)
