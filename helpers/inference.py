"""Classify a video: one prediction per video, or a stream of predictions over sliding
windows without flicker (paper 001's testing phase, with the original code's defects fixed).

* :func:`predict_single_action` samples frames exactly as training did
  (:func:`helpers.video.sample_indices` over the whole clip) and runs one forward pass.
* :func:`predict_on_video` slides a window over the video. The original code fed
  ``num_frames`` *consecutive* frames (0.8 s at 25 fps) to a model trained on
  ``num_frames`` frames spread over a whole clip (several seconds): a different time
  scale. Here a window spans about one training clip (``window`` seconds) and takes
  ``num_frames`` frames spread over it with the same ``sample_indices``. Probabilities
  are averaged over the last ``smoothing`` windows to remove flicker (paper 001's
  "prediction flickering", cured "through averaging"). :class:`SlidingWindows` is that
  mechanism, fed frame by frame: by the file's decoder here, by a camera or live stream in
  :mod:`har_app.live`.
* Speed: the video is decoded once, sequentially; there is no ``model.predict`` per
  frame (a Keras model's compiled paths are :mod:`helpers.predictor`'s).
* No TensorFlow at import: a ``.keras`` model brings it (:mod:`helpers.predictor`), an exported
  ``.tflite`` file runs with LiteRT alone (:class:`helpers.runtime.TFLitePredictor`). The names
  :mod:`helpers.predictor` and :mod:`helpers.annotate` define stay importable from here.
"""

from __future__ import annotations

import itertools
import math
import os
import warnings
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
from tqdm.auto import tqdm

# open_video, decode_frames and frame_to_rgb are the exact decode and resize/colour steps training uses
from helpers.annotate import (  # noqa: F401  (label_frame, concatenate_videos: their old import path)
    ANNOTATED_CODECS,
    ANNOTATED_MAX_SIDE,
    FALLBACK_FPS,
    AnnotatedWriter,
    concatenate_videos,
    label_frame,
)
from helpers.runtime import TFLitePredictor
from helpers.video import VideoReadError, decode_frames, frame_extraction, frame_to_rgb, open_video, sample_indices

#: Default window span: the mean embedded-dataset training clip (40-90 frames at 25 fps,
#: mean 65 frames = 2.6 s). UCF50's clips average 199 frames at 26 fps (7.6 s): pass
#: ``window=7.6`` for a UCF50 model, or the median duration of your training clips.
DEFAULT_WINDOW_S = 2.6
#: Default stride: 5 frames at 25 fps, so 5 smoothed windows cover the last second.
DEFAULT_STRIDE_S = 0.2
DEFAULT_SMOOTHING = 5
#: With an annotated video, the model runs at least every this many frames, so that frames wait for
#: their label at most one window + this many frames (``make bench``: 8 s of 4K peaks at 1.24 GB,
#: 1.69 GB with 128, the chunk without a writer).
WRITER_CHUNK_FRAMES = 32
#: Names defined in :mod:`helpers.predictor` (Keras), importable from here without importing TensorFlow first.
_PREDICTOR_NAMES = frozenset({"FEATURE_LAYER", "WindowPredictor", "check_model", "model_inputs", "split_frame_model",
                              "takes_flow", "window_predictor"})


def __getattr__(name: str):
    """``from helpers.inference import check_model`` (and the other Keras-side names) keeps working; TensorFlow is
    imported only then."""
    if name in _PREDICTOR_NAMES:
        from helpers import predictor

        return getattr(predictor, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_for_inference(path: str | os.PathLike):
    """A ``.keras`` model (:func:`helpers.models.load_model`, imports TensorFlow) or a ``.tflite`` export's
    :class:`helpers.runtime.TFLitePredictor` (LiteRT only)."""
    if Path(path).suffix == ".tflite":
        return TFLitePredictor(path)
    try:
        from helpers.models import load_model
    except ImportError as err:  # a small device's runtime: LiteRT without TensorFlow
        raise ImportError(f"{path}: a .keras model needs TensorFlow and Keras ({err}); install requirements.txt, "
                          "or export it with `python -m helpers export` and pass the .tflite file") from None
    return load_model(path, compile=False)


def as_predictor(model, *, fast: bool | None = None, batch_size: int = 32):
    """What runs windows: an exported model's predictor as it is, a Keras model's cached
    :class:`helpers.predictor.WindowPredictor` (compiled passes, per-frame fast path)."""
    if hasattr(model, "predict_clips"):
        return model
    from helpers.predictor import window_predictor

    return window_predictor(model, fast=fast, batch_size=batch_size)


class Window(NamedTuple):
    """One predicted window: frames ``[start, end)``, raw and smoothed probabilities ``(num_classes,)``."""

    start: int
    end: int
    probabilities: np.ndarray
    smoothed: np.ndarray
    text: str  # "label 97%" of the smoothed probabilities


class SlidingWindows:
    """The windows of one stream of decoded frames, predicted and smoothed as the frames arrive.

    Window ``k`` spans ``window_frames`` frames from ``k * stride_frames`` and feeds the model the
    ``num_frames`` frames at ``k * stride_frames + offsets`` (:func:`helpers.video.sample_indices`);
    the probabilities are averaged over the last ``smoothing`` windows. Feed it with :meth:`add`
    (only the frames :meth:`needed`, resized by :func:`helpers.video.frame_to_rgb`) and call
    :meth:`update` with the count of frames seen. The one mechanism of :func:`predict_on_video`
    (a file) and :func:`har_app.live.classify_live` (a camera or live stream).

    Memory and work per frame do not grow with the stream: it keeps the frames of the windows still to come,
    the last ``smoothing`` raw probabilities and the ``latest`` :class:`Window`; every window goes to
    ``on_window``, which keeps what its caller needs (a file's timeline, an annotated copy's labels).

    Args:
        predictor: :func:`as_predictor`'s result (``spec``, ``fast``, ``predict_clips`` ...).
        fps: Frames per second of the stream.
        window, stride, smoothing: As :func:`predict_on_video` takes them.
        name: What the warnings and errors name (the file or the stream).
        on_window: Called with every :class:`Window` as it is predicted, in order.
    """

    def __init__(self, predictor, *, fps: float, window: float | None, stride: float, smoothing: int, name: str,
                 on_window: Callable[[Window], None] | None = None):
        if smoothing < 1:
            raise ValueError(f"smoothing must be >= 1 window, got {smoothing}")
        self.predictor, self.spec, self.fps, self.smoothing = predictor, predictor.spec, fps, smoothing
        num_frames = self.spec.num_frames
        self.window_frames = int(round((window or DEFAULT_WINDOW_S) * fps))
        self.stride_frames = max(1, int(round(stride * fps)))
        if window is None and self.window_frames < num_frames:
            self.window_frames = num_frames
            warnings.warn(f"{name}: {fps:g} fps; the window grows from {DEFAULT_WINDOW_S:g} s to "
                          f"{num_frames / fps:.2f} s to hold the model's num_frames={num_frames}", stacklevel=3)
        if self.window_frames < num_frames:
            raise ValueError(f"window={window:g} s is {self.window_frames} frames at {fps:g} fps, fewer than the "
                             f"model's num_frames={num_frames}; use a window of at least {num_frames / fps:.2f} s")
        self.offsets = sample_indices(self.window_frames, num_frames)
        self.store: dict[int, np.ndarray] = {}  # frame index -> features (fast) or small frame (generic)
        self.pending: dict[int, np.ndarray] = {}  # frame index -> needed frame not encoded yet (until a window is due)
        self.recent: deque[np.ndarray] = deque(maxlen=smoothing)  # the raw probabilities smoothing averages
        self.count, self.latest, self.on_window = 0, None, on_window  # windows predicted, the last Window
        self.next_start = 0

    def needed(self, index: int) -> bool:
        """Whether some window feeds frame ``index`` to the model."""
        d = index - self.offsets
        return bool(np.any((d >= 0) & (d % self.stride_frames == 0)))

    def add(self, index: int, small: np.ndarray) -> None:
        """A needed frame, uint8 ``(image_size, image_size, 3)``; encoded when a window that uses it is due."""
        self.pending[index] = small

    def _kept(self, index: int) -> int:
        if index in self.store or index in self.pending:
            return index
        # a live source's frame dropped while the model was behind: the nearest kept one stands in
        return min(itertools.chain(self.store, self.pending), key=lambda i: (abs(i - index), i))

    def update(self, seen: int, *, latest_only: bool = False) -> int:
        """Predict every window that has ended once ``seen`` frames have arrived (``latest_only``: only the
        last of them, for a live source that fell behind); returns how many windows were predicted. Only the
        frames those windows use are encoded (each once); a frame no predicted window uses never is."""
        new_starts = []
        while self.next_start + self.window_frames <= seen:
            new_starts.append(self.next_start)
            self.next_start += self.stride_frames
        new_starts = new_starts[-1:] if latest_only else new_starts
        if new_starts:
            fast = self.predictor.fast
            rows = [[self._kept(i) for i in start + self.offsets] for start in new_starts]
            todo = sorted({i for row in rows for i in row} & self.pending.keys())
            if todo:
                frames = np.stack([self.pending.pop(i) for i in todo])
                self.store.update(zip(todo, self.predictor.encode_frames(frames) if fast else frames, strict=True))
            batch = np.stack([np.stack([self.store[i] for i in row]) for row in rows])
            self.append(self.predictor.predict_features(batch) if fast else self.predictor.predict_clips(batch),
                        new_starts)
            for kept in (self.store, self.pending):  # no later window starts before next_start
                for index in [i for i in kept if i < self.next_start]:
                    del kept[index]
        return len(new_starts)

    def append(self, probs: np.ndarray, starts: list[int], *, end: int | None = None) -> None:
        """Smooth windows' raw probabilities ``(len(starts), num_classes)`` and pass each on as a :class:`Window`
        (``end``: the one window's end when it is not ``start + window_frames``, a video shorter than a window)."""
        for start, p in zip(starts, probs, strict=True):
            self.recent.append(p)
            s = np.mean(self.recent, axis=0)
            best = int(np.argmax(s))
            self.latest = Window(start, start + self.window_frames if end is None else end, p, s,
                                 f"{self.spec.class_names[best]} {s[best]:.0%}")
            self.count += 1
            if self.on_window is not None:
                self.on_window(self.latest)


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


def predict_single_action(model, video_path: str | os.PathLike) -> ActionPrediction:
    """Classify a whole video with one forward pass, sampling frames as training did.

    ``num_frames`` frames spread over the whole video (:func:`helpers.data.sample_indices`),
    resized to ``image_size``, RGB; both numbers come from the model itself.

    Args:
        model: A model built by ``helpers.models`` (e.g. loaded with ``load_model``), or an exported
            model's :class:`helpers.runtime.TFLitePredictor`.
        video_path: Any file FFmpeg decodes.

    Returns:
        ``(label, confidence, probabilities)`` as an :class:`ActionPrediction`.

    Raises:
        VideoReadError: Missing, unreadable, or shorter than the model's ``num_frames``.
        ValueError: The model cannot be used (see :func:`check_model`).
    """
    if hasattr(model, "predict_clips"):  # an exported model's predictor (helpers.runtime.TFLitePredictor)
        clip = frame_extraction(video_path, num_frames=model.spec.num_frames, image_size=model.spec.image_size)
        return _as_prediction(model.predict_clips(clip[None])[0], model.spec.class_names)
    from helpers.predictor import check_model, model_inputs

    spec = check_model(model)
    clip = frame_extraction(video_path, num_frames=spec.num_frames, image_size=spec.image_size)
    # one clip: an eager call beats compiling a graph first
    return _as_prediction(np.asarray(model(model_inputs(model, clip[None]), training=False))[0], spec.class_names)


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

    def to_frame(self):
        """One row per window: times, raw and smoothed label/confidence, and every probability (a pandas DataFrame)."""
        import pandas as pd  # only here: classifying needs no pandas
        raw, smooth = self.probabilities, self.smoothed
        table = pd.DataFrame({
            "start_s": self.start_s, "end_s": self.end_s,
            "label": self.labels(), "confidence": raw.max(axis=1),
            "smoothed_label": self.labels(smoothed=True), "smoothed_confidence": smooth.max(axis=1),
        })
        for j, name in enumerate(self.class_names):
            table[f"p_{name}"] = raw[:, j]
        return table


def predict_on_video(
    model,
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
            names come from it), or an exported model's :class:`helpers.runtime.TFLitePredictor`.
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
    if chunk_frames < 1:
        raise ValueError(f"chunk_frames must be >= 1, got {chunk_frames}")
    predictor = as_predictor(model, fast=fast, batch_size=batch_size)
    container = open_video(path)
    writer: AnnotatedWriter | None = None
    ok = False
    try:
        video_fps = float(fps or container.streams.video[0].average_rate or 0)
        if not (math.isfinite(video_fps) and video_fps > 0):
            warnings.warn(f"{path}: no frame rate in the file; assuming {FALLBACK_FPS} fps", stacklevel=2)
            video_fps = FALLBACK_FPS
        if output_path is not None:
            writer = AnnotatedWriter(Path(output_path), fps=video_fps, max_side=ANNOTATED_MAX_SIDE)
            chunk_frames = min(chunk_frames, WRITER_CHUNK_FRAMES)  # frames wait for their label: bounded memory
        timeline: list[Window] = []  # the result's one row per window

        def record(window: Window) -> None:
            timeline.append(window)
            if writer is not None:
                writer.label(window.end, window.text)

        windows = SlidingWindows(predictor, fps=video_fps, window=window, stride=stride, smoothing=smoothing,
                                 name=str(path), on_window=record)
        bar = tqdm(total=int(container.streams.video[0].frames or 0) or None, unit="frame",
                   desc=f"Classifying {path.name[:30]}", disable=not progress)
        with bar:
            decoded, early = _decode_windows(container, windows, writer, chunk_frames=chunk_frames, bar=bar)
        num_frames, window_frames = predictor.spec.num_frames, windows.window_frames
        if decoded == 0:
            raise VideoReadError(path, "no decodable frames (corrupt or not a video)")
        if decoded < num_frames:
            raise VideoReadError(path, f"too short: {decoded} frames, the model needs at least "
                                       f"num_frames={num_frames}")
        if timeline:
            frame_indices = np.asarray([w.start for w in timeline], dtype=np.int64)[:, None] + windows.offsets
        else:  # shorter than one window: the whole video is the window, sampled as in training
            frame_indices = sample_indices(decoded, num_frames)[None]
            windows.append(predictor.predict_clips(np.stack([early[i] for i in frame_indices[0]])[None]), [0],
                           end=decoded)
        starts = np.asarray([w.start for w in timeline], dtype=np.int64)
        ends = np.asarray([w.end for w in timeline], dtype=np.int64)
        if writer is not None:
            writer.flush()
        ok = True
    finally:
        container.close()
        if writer is not None:
            writer.close(ok=ok)
    return VideoPrediction(
        video_path=path, class_names=predictor.spec.class_names, fps=video_fps, total_frames=decoded,
        window_frames=window_frames, stride_frames=windows.stride_frames, smoothing=smoothing,
        starts=starts, ends=ends, frame_indices=frame_indices,
        probabilities=np.stack([w.probabilities for w in timeline]).astype(np.float32),
        smoothed=np.stack([w.smoothed for w in timeline]).astype(np.float32),
        fast_path=predictor.fast, output_path=Path(output_path) if output_path is not None else None,
    )


def _decode_windows(container, windows: SlidingWindows, writer: AnnotatedWriter | None, *, chunk_frames: int,
                    bar) -> tuple[int, list[np.ndarray]]:
    """Decode every frame once, feed the needed ones to ``windows`` and predict every ``chunk_frames`` frames.

    Returns:
        ``(frames decoded, the frames of the first window)``; the latter is the fallback of a video
        shorter than one window (empty once a window has ended).
    """
    early: list[np.ndarray] | None = []  # every frame until one window ends
    image_size, decoded = windows.spec.image_size, 0
    for frame in decode_frames(container):
        index = decoded
        needed = windows.needed(index)
        keep_early = early is not None and index < windows.window_frames
        if needed or keep_early:
            small = frame_to_rgb(frame, image_size)
            if keep_early:
                early.append(small)
            if needed:
                windows.add(index, small)
        if writer is not None:
            writer.add(index, frame)
        decoded += 1
        bar.update(1)
        if decoded % chunk_frames == 0:
            windows.update(decoded)
            if windows.count:
                early = None
            if writer is not None:
                writer.flush()
    windows.update(decoded)
    return decoded, early or []
