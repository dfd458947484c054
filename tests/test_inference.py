"""Single and streaming prediction: training-like frame spacing, fast path == model(window),
smoothing against flicker, annotated output, and clear errors."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import keras
import numpy as np
import pytest
from keras import layers

from helpers.annotate import AnnotatedWriter
from helpers.data import VideoReadError, frame_extraction, sample_indices
from helpers.flow import farneback_flow
from helpers.inference import (
    ActionPrediction,
    SlidingWindows,
    VideoPrediction,
    check_model,
    concatenate_videos,
    count_label_changes,
    model_inputs,
    predict_on_video,
    predict_single_action,
    split_frame_model,
    takes_flow,
)
from helpers.models import clip_input, load_model, save_model
from helpers.paper_models import build_convlstm, build_lrcn, build_two_stream
from helpers.runtime import ModelSpec
from scripts.notebook_source import definitions
from tests.conftest import numbered_frames, write_video

NUM_FRAMES = 8
FPS = 25.0
CLASS_NAMES = ("Jumping", "SitDown", "StandUp")


@pytest.fixture(scope="module")
def lrcn() -> keras.Model:
    """An untrained LRCN: its output depends on every input frame and their order."""
    keras.utils.set_random_seed(0)
    return build_lrcn(num_classes=3, num_frames=NUM_FRAMES, image_size=64, class_names=CLASS_NAMES)


@pytest.fixture(scope="module")
def noisy_video(tmp_path_factory) -> Path:
    """60 frames (2.4 s at 25 fps), each different: noise over the numbered colours."""
    rng = np.random.default_rng(1)
    frames = numbered_frames(60, size=64)[:, :48] // 2 + rng.integers(0, 128, (60, 48, 64, 3), dtype=np.uint8)
    return write_video(tmp_path_factory.mktemp("video") / "noisy.avi", frames, fps=FPS)


# Reference implementations (test oracles) that predict_on_video's streaming loop must agree with.


def plan_windows(total_frames: int, *, num_frames: int, window_frames: int, stride_frames: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reference: the windows :func:`predict_on_video` should classify, and the frames each one samples.

    Window ``k`` covers frames ``[k * stride_frames, k * stride_frames + window_frames)``
    and samples ``start + sample_indices(window_frames, num_frames)``: the spacing of a
    training clip of ``window_frames`` frames. A video shorter than one window is one
    window over the whole video (exactly :func:`helpers.data.frame_extraction`'s frames).

    Returns:
        ``(starts, ends, frame_indices)``: int64 ``(num_windows,)``, ``(num_windows,)``
        (one past the last frame) and ``(num_windows, num_frames)``.
    """
    if window_frames < num_frames:
        raise ValueError(f"window_frames={window_frames} is fewer than num_frames={num_frames}")
    if stride_frames < 1:
        raise ValueError(f"stride_frames must be >= 1, got {stride_frames}")
    if total_frames < window_frames:
        indices = sample_indices(total_frames, num_frames)[None]  # raises if too short
        return np.zeros(1, np.int64), np.full(1, total_frames, np.int64), indices
    starts = np.arange(0, total_frames - window_frames + 1, stride_frames, dtype=np.int64)
    return starts, starts + window_frames, starts[:, None] + sample_indices(window_frames, num_frames)[None]


def smooth_probabilities(probabilities: np.ndarray, *, k: int) -> np.ndarray:
    """Reference for ``VideoPrediction.smoothed``: row ``i`` is the mean of rows ``max(0, i - k + 1) .. i``.

    Args:
        probabilities: ``(num_windows, num_classes)``.
        k: Windows averaged; 1 returns a copy.

    Returns:
        Same shape and dtype; rows still sum to 1.
    """
    if k < 1:
        raise ValueError(f"smoothing window k must be >= 1, got {k}")
    p = np.asarray(probabilities)
    csum = np.concatenate([np.zeros((1, *p.shape[1:])), np.cumsum(p, axis=0, dtype=np.float64)])
    i = np.arange(len(p))
    lo = np.maximum(0, i - k + 1)
    return ((csum[i + 1] - csum[lo]) / (i + 1 - lo)[:, None]).astype(p.dtype)


def decoded_frames(video: Path, *, image_size: int) -> np.ndarray:
    """Every frame, preprocessed as training does (frame_extraction with one sample per frame)."""
    total = int(cv2.VideoCapture(str(video)).get(cv2.CAP_PROP_FRAME_COUNT))
    return frame_extraction(video, num_frames=total, image_size=image_size)


def test_plan_windows_spaces_frames_like_training_clips():
    starts, ends, indices = plan_windows(100, num_frames=8, window_frames=40, stride_frames=10)
    np.testing.assert_array_equal(starts, [0, 10, 20, 30, 40, 50, 60])
    np.testing.assert_array_equal(ends, starts + 40)
    for start, row in zip(starts, indices, strict=True):
        np.testing.assert_array_equal(row, start + sample_indices(40, 8))  # a 40-frame training clip
    assert np.all(np.diff(indices, axis=1) >= 4)  # spread over the window, not 8 consecutive frames
    # shorter than a window: one window over the whole video, exactly frame_extraction's frames
    starts, ends, indices = plan_windows(30, num_frames=8, window_frames=40, stride_frames=10)
    np.testing.assert_array_equal(indices, [sample_indices(30, 8)])
    assert (starts.tolist(), ends.tolist()) == ([0], [30])
    with pytest.raises(ValueError, match="fewer than num_frames"):
        plan_windows(100, num_frames=8, window_frames=5, stride_frames=1)


@pytest.mark.parametrize("fast", [True, False])
def test_streaming_matches_model_on_training_spaced_windows(lrcn, noisy_video, fast):
    result = predict_on_video(lrcn, noisy_video, window=1.0, stride=0.2, smoothing=3, fast=fast)
    assert result.fast_path is fast
    assert (result.window_frames, result.stride_frames, result.total_frames) == (25, 5, 60)
    _, _, expected = plan_windows(60, num_frames=NUM_FRAMES, window_frames=25, stride_frames=5)
    np.testing.assert_array_equal(result.frame_indices, expected)
    frames = decoded_frames(noisy_video, image_size=64)
    reference = lrcn(frames[result.frame_indices], training=False).numpy()
    np.testing.assert_allclose(result.probabilities, reference, atol=1e-5)
    np.testing.assert_allclose(result.smoothed, smooth_probabilities(reference, k=3), atol=1e-5)
    np.testing.assert_allclose(result.start_s, np.arange(result.num_windows) * 0.2)
    np.testing.assert_allclose(result.end_s - result.start_s, 1.0)


def test_whole_video_window_sees_the_training_frames(lrcn, noisy_video):
    """A window as long as the video samples exactly what training (and predict_single_action) sees."""
    single = predict_single_action(lrcn, noisy_video)
    result = predict_on_video(lrcn, noisy_video, window=10.0)
    assert result.num_windows == 1
    np.testing.assert_array_equal(result.frame_indices, [sample_indices(60, NUM_FRAMES)])
    np.testing.assert_allclose(result.probabilities[0], list(single.probabilities.values()), atol=1e-5)


def test_single_prediction_contract(lrcn, noisy_video):
    prediction = predict_single_action(lrcn, noisy_video)
    label, confidence, probabilities = prediction  # unpacks as a tuple
    assert isinstance(prediction, ActionPrediction)
    assert list(probabilities) == list(CLASS_NAMES)
    assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert label == max(probabilities, key=probabilities.get) and confidence == probabilities[label]
    assert prediction.top(2)[0] == (label, confidence) and len(prediction.top(2)) == 2


def test_generic_path_for_convlstm(noisy_video):
    keras.utils.set_random_seed(0)
    model = build_convlstm(num_classes=3, num_frames=NUM_FRAMES, image_size=32, class_names=CLASS_NAMES)
    assert split_frame_model(model) is None
    result = predict_on_video(model, noisy_video, window=0.8, stride=0.4)
    assert not result.fast_path
    frames = decoded_frames(noisy_video, image_size=32)
    np.testing.assert_allclose(result.probabilities, model(frames[result.frame_indices], training=False).numpy(),
                               atol=1e-5)
    with pytest.raises(ValueError, match="fast path"):
        predict_on_video(model, noisy_video, fast=True)


def test_two_stream_model_classifies_videos_with_flow_computed_at_inference(noisy_video, tmp_path):
    # notebook 05 defines the two-stream model (#@save); the CLI only loads the .keras file it saves
    keras.utils.set_random_seed(0)
    built = build_two_stream(num_classes=3, num_frames=NUM_FRAMES, image_size=32, class_names=CLASS_NAMES)
    model = load_model(save_model(built, tmp_path / "two_stream.keras"))  # as the CLI gets it
    assert takes_flow(model) and not takes_flow(build_lrcn(num_classes=3, num_frames=NUM_FRAMES))
    clip = frame_extraction(noisy_video, num_frames=NUM_FRAMES, image_size=32)
    expected = model({"clip": clip[None], "flow": farneback_flow(clip)[None]}, training=False).numpy()[0]
    prediction = predict_single_action(model, noisy_video)
    np.testing.assert_allclose(list(prediction.probabilities.values()), expected, atol=1e-5)
    # the flow matters: the same frames with the flow of the clip played backwards give other scores
    backwards = model({"clip": clip[None], "flow": farneback_flow(clip[::-1])[None]}, training=False).numpy()[0]
    assert np.abs(backwards - expected).max() > 1e-4

    result = predict_on_video(model, noisy_video, window=0.8, stride=0.4)
    assert not result.fast_path
    windows = decoded_frames(noisy_video, image_size=32)[result.frame_indices]
    np.testing.assert_allclose(result.probabilities, model(model_inputs(model, windows), training=False).numpy(),
                               atol=1e-5)
    with pytest.raises(ValueError, match="optical flow"):
        predict_on_video(model, noisy_video, fast=True)


def test_split_frame_model_reproduces_the_lrcn(lrcn):
    encoder, head = split_frame_model(lrcn)
    clips = np.random.default_rng(0).integers(0, 256, (2, NUM_FRAMES, 64, 64, 3), dtype=np.uint8)
    np.testing.assert_allclose(head(encoder(clips)).numpy(), lrcn(clips).numpy(), atol=1e-6)


def test_smoothing_is_a_causal_moving_average():
    p = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0]], np.float32)
    np.testing.assert_allclose(smooth_probabilities(p, k=1), p)
    np.testing.assert_allclose(smooth_probabilities(p, k=2), [[1, 0], [0.5, 0.5], [0.5, 0.5], [1, 0]])
    changed = p.copy()
    changed[3] = [0.0, 1.0]  # the future does not change the past
    np.testing.assert_allclose(smooth_probabilities(changed, k=3)[:3], smooth_probabilities(p, k=3)[:3])
    assert count_label_changes(["a", "b", "b", "a"]) == 2 and count_label_changes(["a"]) == 0
    with pytest.raises(ValueError):
        smooth_probabilities(p, k=0)


def test_smoothing_reduces_flicker_on_constructed_probabilities():
    """True class 0 all along; the model is right on average but noisy window to window."""
    rng = np.random.default_rng(0)
    logits = rng.normal(0.0, 1.0, (200, 3))
    logits[:, 0] += 1.0
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    raw = count_label_changes(probabilities.argmax(axis=1))
    smooth = smooth_probabilities(probabilities, k=8).argmax(axis=1)
    assert count_label_changes(smooth) < raw / 4
    assert np.mean(smooth == 0) > np.mean(probabilities.argmax(axis=1) == 0)


def brightness_model() -> keras.Model:
    """A model with controlled outputs: "bright" when the window's mean intensity is above 0.5."""
    inputs, x = clip_input(num_classes=2, num_frames=NUM_FRAMES, image_size=16, class_names=["bright", "dark"])
    x = layers.GlobalAveragePooling3D()(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    model = keras.Model(inputs, outputs, name="brightness")
    c = 10.0  # logit(bright) - logit(dark) = 6c * (mean - 0.5)
    model.layers[-1].set_weights([np.array([[c, -c]] * 3, np.float32), np.array([-1.5 * c, 1.5 * c], np.float32)])
    return model


def test_smoothing_reduces_label_changes_on_a_video_of_one_class(tmp_path):
    """Every frame is 'bright' on average, but frame noise makes single windows flicker to 'dark'."""
    rng = np.random.default_rng(3)
    levels = np.clip(rng.normal(150, 60, 240), 0, 255).astype(np.uint8)
    frames = np.broadcast_to(levels[:, None, None, None], (240, 32, 32, 3)).copy()
    video = write_video(tmp_path / "one_class.avi", frames, fps=FPS)
    window = NUM_FRAMES / FPS  # non-overlapping windows of 8 frames: independent noise
    result = predict_on_video(brightness_model(), video, window=window, stride=window, smoothing=5)
    assert result.num_windows == 30
    raw, smoothed = result.label_changes(), result.label_changes(smoothed=True)
    assert raw >= 4, "the test video should flicker without smoothing"
    assert smoothed < raw / 2
    assert result.video_label.label == "bright"
    assert np.mean(result.labels(smoothed=True) == "bright") > np.mean(result.labels() == "bright")


def test_annotated_video_has_every_frame_labelled(lrcn, noisy_video, tmp_path):
    out = tmp_path / "annotated.mp4"
    result = predict_on_video(lrcn, noisy_video, out, window=1.0, stride=0.2)
    assert result.output_path == out and out.is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["annotated.mp4"]  # no temporary file left
    with av.open(str(out)) as container:  # H.264 (PyAV's wheels have libx264), every input frame
        assert container.streams.video[0].codec_context.name == "h264"
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    assert len(frames) == 60 and frames[0].shape == (48, 64, 3)
    assert frames[0][:6, :20].mean() < 40  # the black label box in the top-left corner
    table = result.to_frame()
    assert len(table) == result.num_windows
    assert {"start_s", "end_s", "label", "smoothed_label", "p_Jumping"} <= set(table.columns)
    with pytest.raises(ValueError, match="must end in"):
        predict_on_video(lrcn, noisy_video, tmp_path / "annotated.gif")


def test_annotated_video_of_a_large_input_is_downscaled(lrcn, noisy_video, tmp_path, monkeypatch):
    """Frames wait for their label downscaled to ANNOTATED_MAX_SIDE: memory bounded whatever the input."""
    monkeypatch.setattr("helpers.inference.ANNOTATED_MAX_SIDE", 32)
    predict_on_video(lrcn, noisy_video, tmp_path / "small.mkv", window=1.0)
    with av.open(str(tmp_path / "small.mkv")) as container:
        frames = list(container.decode(video=0))
    assert len(frames) == 60 and (frames[0].width, frames[0].height) == (32, 24)


def test_low_frame_rate_grows_the_default_window(lrcn, tmp_path):
    """At 2 fps the default 2.6 s window holds 5 frames, fewer than num_frames=8: it grows to 4 s, said once."""
    video = write_video(tmp_path / "timelapse.avi", numbered_frames(30, size=64), fps=2)
    with pytest.warns(UserWarning, match=r"timelapse\.avi: 2 fps; the window grows from 2.6 s to 4.00 s"):
        result = predict_on_video(lrcn, video, tmp_path / "timelapse.mp4")
    assert result.window_frames == NUM_FRAMES and result.num_windows == 30 - NUM_FRAMES + 1
    with av.open(str(tmp_path / "timelapse.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 30
    with pytest.raises(ValueError, match="fewer than the model's num_frames=8"):  # a window asked for is kept
        predict_on_video(lrcn, video, window=2.6)


def test_streaming_over_a_resolution_change_uses_the_new_frames(lrcn, tmp_path):
    from tests.test_video import noisy_numbered, resolution_change_webm

    frames = noisy_numbered(40, width=96, height=72)
    path = resolution_change_webm(tmp_path / "switch.webm", frames, switch=20, first_size=(64, 48))
    result = predict_on_video(lrcn, path, tmp_path / "switch.mp4", window=0.8, stride=0.4)
    clips = np.stack([frame_extraction(path, num_frames=40, image_size=64)[row] for row in result.frame_indices])
    np.testing.assert_allclose(result.probabilities, lrcn.predict(clips, verbose=0), atol=1e-5)
    with av.open(str(tmp_path / "switch.mp4")) as container:
        assert {(f.width, f.height) for f in container.decode(video=0)} == {(64, 48)}  # one size, the first


def test_short_video_is_one_window(lrcn, tmp_path):
    video = write_video(tmp_path / "short.avi", numbered_frames(12, size=64), fps=FPS)
    result = predict_on_video(lrcn, video, tmp_path / "short_out.avi", window=2.6)
    assert isinstance(result, VideoPrediction) and result.num_windows == 1
    np.testing.assert_array_equal(result.frame_indices, [sample_indices(12, NUM_FRAMES)])
    np.testing.assert_allclose(result.probabilities[0], list(predict_single_action(lrcn, video).probabilities.values()),
                               atol=1e-5)
    assert int(cv2.VideoCapture(str(tmp_path / "short_out.avi")).get(cv2.CAP_PROP_FRAME_COUNT)) == 12


def test_model_and_video_mismatches_are_clear_errors(lrcn, noisy_video, tmp_path):
    too_short = write_video(tmp_path / "five.avi", numbered_frames(5, size=64), fps=FPS)
    with pytest.raises(VideoReadError, match=r"five\.avi: too short: 5 frames.*num_frames=8"):
        predict_on_video(lrcn, too_short)
    with pytest.raises(VideoReadError, match="too short"):
        predict_single_action(lrcn, too_short)
    with pytest.raises(VideoReadError, match="does not exist"):
        predict_on_video(lrcn, tmp_path / "missing.mp4")
    with pytest.raises(ValueError, match="fewer than the model's num_frames=8"):
        predict_on_video(lrcn, noisy_video, window=0.1)
    plain = keras.Sequential([keras.Input((NUM_FRAMES, 64, 64, 3)), layers.Flatten(), layers.Dense(3)])
    with pytest.raises(ValueError, match="ClipRescaling"):
        predict_single_action(plain, noisy_video)
    assert check_model(lrcn).num_frames == NUM_FRAMES


def test_concatenate_videos_and_durations(tmp_path):
    # notebook 04 measures the training clips' durations to size its windows
    video_durations = definitions(Path(__file__).resolve().parents[1] / "notebooks/04_predict.ipynb",
                                  names=["video_durations"]).video_durations
    a = write_video(tmp_path / "a.avi", numbered_frames(10, size=32), fps=FPS)
    b = write_video(tmp_path / "b.avi", numbered_frames(15, size=48), fps=FPS)
    bounds = concatenate_videos([a, b], tmp_path / "ab.mp4", fps=FPS)
    np.testing.assert_array_equal(bounds, [0, 10, 25])
    cap = cv2.VideoCapture(str(tmp_path / "ab.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 25 and int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) == 32
    cap.release()
    np.testing.assert_allclose(video_durations([a, b]), [10 / FPS, 15 / FPS])


class IndexPredictor:
    """A numpy model over frames that carry their index (``frame[0, 0, :2]`` = index in base 256): a window's
    probabilities depend on every frame's index and order. Records every frame it encodes (a spy)."""

    def __init__(self, *, fast: bool, num_frames: int = 4):
        self.spec, self.fast = ModelSpec(class_names=("a", "b", "c"), num_frames=num_frames, image_size=2), fast
        self.encode_calls, self.encoded = 0, []

    @staticmethod
    def frame(index: int) -> np.ndarray:
        frame = np.zeros((2, 2, 3), np.uint8)
        frame[0, 0, :2] = divmod(index, 256)
        return frame

    def encode_frames(self, frames: np.ndarray) -> np.ndarray:
        """``(n, 2, 2, 3)`` -> ``(n, 1)`` features: the indices."""
        self.encode_calls += 1
        features = frames[:, 0, 0, :1].astype(np.float64) * 256 + frames[:, 0, 0, 1:2]
        self.encoded.extend(features[:, 0].astype(int).tolist())
        return features

    def predict_features(self, features: np.ndarray) -> np.ndarray:
        """``(windows, num_frames, 1)`` -> ``(windows, 3)``."""
        f = features[..., 0]
        logits = np.stack([np.sin(f @ np.arange(1, f.shape[1] + 1) / 7), np.cos(f.sum(axis=1) / 5),
                           np.sin(f[:, 0] / 3)], axis=1)
        return np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)

    def predict_clips(self, clips: np.ndarray) -> np.ndarray:
        """``(windows, num_frames, 2, 2, 3)`` -> ``(windows, 3)``."""
        return self.predict_features(clips[:, :, 0, 0, :1].astype(np.float64) * 256 + clips[:, :, 0, 0, 1:2])


def feed(windows: SlidingWindows, total: int, *, every: int = 1, latest_only: bool = False) -> list[list[int]]:
    """Feed ``total`` frames as a stream does, calling ``update`` every ``every`` frames; the starts of the windows
    each call predicted."""
    predicted = []
    for index in range(total):
        if windows.needed(index):
            windows.add(index, IndexPredictor.frame(index))
        if (index + 1) % every == 0:
            before = windows.next_start
            n = windows.update(index + 1, latest_only=latest_only)
            starts = list(range(before, windows.next_start, windows.stride_frames))
            predicted.append(starts[-n:] if n else [])
    return predicted


def test_sliding_windows_encode_each_frame_once_and_only_when_a_window_needs_it():
    predictor = IndexPredictor(fast=True)
    windows = SlidingWindows(predictor, fps=25, window=0.8, stride=0.2, smoothing=3, name="spy")  # 20 / 5 frames
    predicted = feed(windows, 300)  # update after every frame, as a live source does
    starts = [s for call in predicted for s in call]
    assert starts == list(range(0, 300 - 20 + 1, 5))
    assert predictor.encode_calls == sum(1 for call in predicted if call)  # no window due: nothing encoded
    assert sorted(predictor.encoded) == sorted(set(predictor.encoded))  # each frame once
    assert set(predictor.encoded) == {int(i) for s in starts for i in s + windows.offsets}

    behind = IndexPredictor(fast=True)  # a live source that fell behind: only the newest due window runs
    windows = SlidingWindows(behind, fps=25, window=0.8, stride=0.2, smoothing=3, name="spy")
    predicted = feed(windows, 300, every=40, latest_only=True)
    starts = [s for call in predicted for s in call]
    assert len(starts) == 300 // 40
    assert sorted(behind.encoded) == sorted({int(i) for s in starts for i in s + windows.offsets})


@pytest.mark.parametrize("fast", [True, False])
def test_a_long_stream_keeps_bounded_state_and_predicts_what_the_whole_history_would(fast, tmp_path):
    """Memory and per-frame work do not grow with the stream; the windows and smoothing are the straightforward ones
    (every window's raw probabilities, then a moving average over the whole history)."""
    predictor = IndexPredictor(fast=fast)
    seen: list = []
    windows = SlidingWindows(predictor, fps=25, window=0.8, stride=0.2, smoothing=3, name="long", on_window=seen.append)
    sizes = []
    for total in (1000, 3000):  # the second call goes on with the same stream up to frame 3000
        for index in range(total - 1000 if total == 1000 else 1000, total):
            if windows.needed(index):
                windows.add(index, IndexPredictor.frame(index))
            windows.update(index + 1)
            sizes.append({name: len(value) for name, value in vars(windows).items() if hasattr(value, "__len__")})
    largest = {name: max(size[name] for size in sizes) for name in sizes[0]}
    assert largest == {name: max(size[name] for size in sizes[:1000]) for name in sizes[0]}  # reached in 1000 frames
    assert largest["recent"] == 3 and largest["store"] + largest["pending"] <= windows.window_frames, largest

    starts = np.arange(0, 3000 - 20 + 1, 5)
    rows = starts[:, None] + windows.offsets
    raw = predictor.predict_clips(np.stack([[IndexPredictor.frame(i) for i in row] for row in rows]))
    assert [w.start for w in seen] == starts.tolist() and [w.end for w in seen] == (starts + 20).tolist()
    np.testing.assert_array_equal(np.stack([w.probabilities for w in seen]), raw)
    np.testing.assert_allclose(np.stack([w.smoothed for w in seen]), smooth_probabilities(raw, k=3), atol=1e-12)
    assert windows.count == len(starts) and windows.latest is seen[-1]


def test_the_annotated_copy_keeps_only_the_labels_its_waiting_frames_may_show(tmp_path, monkeypatch):
    """The writer's labels stay bounded over a long stream, and every frame shows the last window ended by then."""
    shown = []
    monkeypatch.setattr("helpers.annotate.label_frame", lambda rgb, text, **_: shown.append(text) or rgb)
    writer = AnnotatedWriter(tmp_path / "long.mkv", fps=25, max_side=16)
    frame = av.VideoFrame.from_ndarray(np.zeros((16, 16, 3), np.uint8), format="rgb24")
    largest = 0
    for index in range(2000):  # windows of 20 frames every 5, flushed every 32 frames as the file path does
        writer.add(index, frame)
        if index + 1 >= 20 and (index + 1 - 20) % 5 == 0:
            writer.label(index + 1, f"ends {index + 1}")
        if (index + 1) % 32 == 0:
            writer.flush()
            largest = max(largest, len(writer.labels))
    writer.close(ok=True)
    assert largest <= 32 // 5 + 1
    assert shown == [f"ends {20 + 5 * max(0, (f - 19) // 5)}" for f in range(2000 - 2000 % 32)]
    with av.open(str(tmp_path / "long.mkv")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 2000 - 2000 % 32
