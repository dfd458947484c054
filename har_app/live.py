"""Classify a camera or a live stream as it plays: ``python -m helpers classify --camera 0`` or an ``rtsp://``,
``rtmp://``, ``srt://``, ``udp://`` URL, an HLS playlist (``.m3u8``), an http(s) live stream (``--live``) or a
YouTube live page (``--live``; yt-dlp resolves it to its stream URL, nothing is downloaded).

Two threads and a bounded queue. The capture thread reads the source at its own pace (a source that delivers
faster than real time, an HLS burst or a file, is paced by its timestamps), converts the frames the windows
sample (:func:`helpers.video.frame_to_rgb`, as training did) and writes the annotated copy. The model thread
takes them from a queue of at most ``queue_frames`` frames: when the model falls behind, the oldest frames are
dropped (a dropped frame is stood in for by its nearest kept neighbour) and only the latest due window is
predicted, so the backlog never grows. Windows and smoothing are :class:`helpers.inference.SlidingWindows`,
the mechanism :func:`helpers.inference.predict_on_video` uses on a file. Nothing grows with the stream's length:
a run keeps the current windows' frames, the smoothing's last windows and the labels the annotated copy still needs.
No TensorFlow here.
"""

from __future__ import annotations

import math
import queue
import sys
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from helpers.annotate import ANNOTATED_MAX_SIDE, FALLBACK_FPS, AnnotatedWriter
from helpers.inference import DEFAULT_SMOOTHING, DEFAULT_STRIDE_S, SlidingWindows, Window, as_predictor
from helpers.video import decode_frames, frame_to_rgb, limit_frame_size

#: URL schemes that are live by nature; an http(s) URL is live with ``--live`` or when it names an HLS playlist.
LIVE_SCHEMES = frozenset({"rtsp", "rtsps", "rtmp", "rtmps", "srt", "udp", "rtp", "tcp"})
#: FFmpeg's camera input by platform (PyAV opens it like any container).
CAMERA_FORMATS = {"linux": "v4l2", "darwin": "avfoundation", "win32": "dshow"}
#: yt-dlp's choice for a live page: its HLS stream when there is one (PyAV reads it), else the best single file.
YTDLP_LIVE_OPTIONS = {"format": "best[protocol^=m3u8]/best", "noplaylist": True, "quiet": True, "no_warnings": True,
                      "skip_download": True}
#: Latencies the summary's percentiles are computed over: the last this many windows (about 33 min at 5 windows a
#: second), so that a run of any length holds bounded memory.
LATENCY_SAMPLES = 10_000


class LiveSourceError(RuntimeError):
    """A live source that cannot be opened, or whose connection was lost (message: source and reason, one line)."""


@dataclass(frozen=True)
class LivePrediction:
    """One smoothed prediction of a live source: what ``--json`` prints as one line."""

    time_s: float  # stream time at the window's end (frames seen / fps)
    label: str
    probability: float
    latency_ms: float  # from the capture of the window's last frame to this label

    def as_dict(self) -> dict:
        return {"time_s": round(self.time_s, 3), "label": self.label, "probability": self.probability,
                "latency_ms": round(self.latency_ms, 1)}


def is_live_url(source: str) -> bool:
    """True for a URL that is a live stream by its scheme (RTSP, RTMP, SRT, UDP ...) or an HLS playlist."""
    url = urllib.parse.urlparse(source)
    return url.scheme.lower() in LIVE_SCHEMES or url.path.lower().endswith(".m3u8")


def camera_source(camera: str, *, platform: str = sys.platform) -> tuple[str, str]:
    """``--camera N`` or a device path as ``(what av.open opens, FFmpeg input format)``.

    Linux: ``N`` -> ``/dev/videoN`` (v4l2); macOS: the AVFoundation device index; Windows: a DirectShow device
    name (``video=NAME``).
    """
    fmt = CAMERA_FORMATS.get(platform)
    if fmt is None:
        raise ValueError(f"--camera: no camera input known for platform {platform!r}")
    if fmt == "v4l2":
        return (f"/dev/video{camera}" if camera.isdigit() else camera), fmt
    if fmt == "dshow":
        return (camera if camera.startswith("video=") else f"video={camera}"), fmt
    return camera, fmt


def resolve_stream_url(url: str, *, youtube_dl: Callable | None = None) -> str:
    """The media URL behind a live page (YouTube live ...), from yt-dlp's extractor without downloading; a URL
    PyAV reads directly (:func:`is_live_url`, a media file suffix) comes back as it is."""
    path = urllib.parse.urlparse(url).path.lower()
    if is_live_url(url) or Path(path).suffix in {".ts", ".m3u8", ".mpd", ".flv", ".mp4", ".mkv", ".webm", ".mjpg"}:
        return url
    if youtube_dl is None:
        import yt_dlp

        youtube_dl = yt_dlp.YoutubeDL
    try:
        with youtube_dl(dict(YTDLP_LIVE_OPTIONS)) as ydl:
            info = ydl.extract_info(url, download=False)
    except Exception as err:  # yt-dlp raises many types (unsupported URL, geo block, offline stream)
        raise LiveSourceError(f"{url}: yt-dlp found no stream ({' '.join(str(err).split())})") from err
    stream = (info or {}).get("url") or next((f.get("url") for f in (info or {}).get("requested_formats") or []), None)
    if not stream:
        raise LiveSourceError(f"{url}: yt-dlp found no stream URL in the page")
    return stream


def open_live(source: str, *, format: str | None = None, timeout_s: float = 10.0) -> av.container.InputContainer:
    """Open a live source with PyAV (FFmpeg): a read stalled for ``timeout_s`` ends it (a lost connection)."""
    options = {"rtsp_transport": "tcp"} if source.lower().startswith("rtsp") else {}
    try:
        container = av.open(source, format=format, options=options, timeout=(timeout_s, timeout_s),
                            metadata_errors="replace")
    except (av.FFmpegError, OSError) as err:
        raise LiveSourceError(f"{source}: cannot open the live source ({type(err).__name__}: "
                              f"{' '.join(str(err).split())})") from None
    if not container.streams.video:
        container.close()
        raise LiveSourceError(f"{source}: no video stream")
    refused = limit_frame_size(container.streams.video[0].codec_context)  # the cap a file gets
    if refused:
        container.close()
        raise LiveSourceError(f"{source}: {refused}")
    return container


@dataclass
class LiveSummary:
    """What a live run did: frames seen and dropped, windows predicted, latencies, why it ended."""

    source: str
    fps: float
    frames: int = 0
    dropped: int = 0
    windows: int = 0
    label_changes: int = 0
    latencies_ms: deque | list | None = None  # the last LATENCY_SAMPLES windows'
    wall_s: float = 0.0
    ended: str = "duration"  # "duration", "interrupted", or the lost connection's message
    output_path: Path | None = None

    def as_dict(self) -> dict:
        lat = np.asarray(self.latencies_ms or [0.0])  # no window ended: no latency (null)
        return {"source": self.source, "fps": self.fps, "frames": self.frames, "dropped": self.dropped,
                "windows": self.windows, "label_changes": self.label_changes, "wall_s": round(self.wall_s, 3),
                "frames_per_s": self.frames / self.wall_s if self.wall_s else None,
                "latency_ms_p50": float(np.percentile(lat, 50)) if self.latencies_ms else None,
                "latency_ms_p95": float(np.percentile(lat, 95)) if self.latencies_ms else None,
                "ended": self.ended, "output": str(self.output_path) if self.output_path else None}


def classify_live(
    model,
    source: str,
    *,
    format: str | None = None,
    output_path: str | Path | None = None,
    window: float | None = None,
    stride: float = DEFAULT_STRIDE_S,
    smoothing: int = DEFAULT_SMOOTHING,
    duration: float | None = None,
    reconnect: int = 0,
    timeout_s: float = 10.0,
    queue_frames: int = 64,
    pace: bool = True,
    catch_up: bool = True,
    on_prediction: Callable[[LivePrediction], None] | None = None,
    stop: threading.Event | None = None,
) -> LiveSummary:
    """Classify a live source until ``duration`` seconds of it have played, ``stop`` is set, Ctrl-C, or the
    connection is lost (after ``reconnect`` more tries).

    Args:
        model: A ``.keras`` model or an exported model's :class:`helpers.runtime.TFLitePredictor`.
        source: What :func:`open_live` opens (a stream URL, or a camera device with ``format``).
        format: FFmpeg input format (``v4l2``, ``avfoundation``, ``dshow`` for a camera), None: guessed.
        output_path: An annotated copy (``.mp4``, ``.mkv``, ``.avi``), finished and playable however it ends.
        window, stride, smoothing: As :func:`helpers.inference.predict_on_video` takes them.
        duration: Stream seconds to classify; None: until the source ends or Ctrl-C.
        reconnect: Tries to reopen the source after a lost connection.
        timeout_s: A read stalled this long is a lost connection.
        queue_frames: Frames waiting for the model at most; beyond it the oldest are dropped.
        pace: Read no faster than the source's timestamps (a burst or a file plays in real time).
        catch_up: When the model is behind, predict only the newest due window (False: every window, as
            :func:`helpers.inference.predict_on_video` does on a file, however late).
        on_prediction: Called with every :class:`LivePrediction` as it is made.
        stop: Set it to end the run from another thread.

    Returns:
        A :class:`LiveSummary`; a lost connection is in its ``ended`` (the caller decides whether it fails).
    """
    predictor, stop = as_predictor(model), stop or threading.Event()
    container = open_live(source, format=format, timeout_s=timeout_s)
    try:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or stream.guessed_rate or 0)
        fps = fps if math.isfinite(fps) and 0 < fps <= 240 else FALLBACK_FPS
        windows = SlidingWindows(predictor, fps=fps, window=window, stride=stride, smoothing=smoothing, name=source)
        writer = AnnotatedWriter(Path(output_path), fps=fps, max_side=ANNOTATED_MAX_SIDE) if output_path else None
    except BaseException:
        container.close()
        raise
    summary = LiveSummary(source=source, fps=fps, latencies_ms=deque(maxlen=LATENCY_SAMPLES),
                          output_path=writer and writer.path)
    previous = [-1]  # the last window's smoothed class

    def record(window: Window) -> None:  # the model thread, every window
        if writer is not None:
            writer.label(window.end, window.text)
        best = int(np.argmax(window.smoothed))
        summary.label_changes += previous[0] not in (-1, best)
        previous[0] = best

    windows.on_window = record
    frames: queue.Queue = queue.Queue(maxsize=max(1, queue_frames))
    failures: list[BaseException] = []
    newest_end = [-1]  # the last frame of the newest window the capture thread has queued
    capture = threading.Thread(target=_capture, daemon=True, name="live-capture", kwargs=dict(
        container=container, reopen=lambda: open_live(source, format=format, timeout_s=timeout_s), windows=windows,
        frames=frames, writer=writer, summary=summary, stop=stop, duration=duration, reconnect=reconnect, pace=pace,
        failures=failures, newest_end=newest_end))
    started = time.monotonic()
    capture.start()
    try:
        while capture.is_alive() or not frames.empty():
            try:
                index, small, captured, is_end = frames.get(timeout=0.1)
            except queue.Empty:
                continue
            if small is not None:
                windows.add(index, small)
            if is_end and (not catch_up or index >= newest_end[0]) and windows.update(index + 1, latest_only=catch_up):
                latest = windows.latest
                best = int(np.argmax(latest.smoothed))
                prediction = LivePrediction(latest.end / fps, windows.spec.class_names[best],
                                            float(latest.smoothed[best]),
                                            (time.monotonic() - captured) * 1000)
                summary.latencies_ms.append(prediction.latency_ms)
                if on_prediction is not None:
                    on_prediction(prediction)
    except KeyboardInterrupt:  # Ctrl-C ends a live run cleanly: the annotated copy is finished
        summary.ended = "interrupted"
    finally:
        stop.set()
        capture.join()
    if failures:
        raise failures[0]
    summary.wall_s = time.monotonic() - started
    summary.windows = windows.count
    return summary


def _capture(*, container, reopen: Callable, windows: SlidingWindows, frames: queue.Queue,
             writer: AnnotatedWriter | None, summary: LiveSummary, stop: threading.Event, duration: float | None,
             reconnect: int, pace: bool, failures: list, newest_end: list) -> None:
    """The capture thread: read, pace, convert the sampled frames, queue them (dropping the oldest when full),
    write the annotated copy; reopen a lost source up to ``reconnect`` times. Its exception goes to ``failures``."""
    index, tries = 0, 0
    size, wf, sf = windows.spec.image_size, windows.window_frames, windows.stride_frames
    try:
        while container is not None and not stop.is_set():
            clock = None  # (wall, stream time) of this connection's first frame
            for frame in decode_frames(container):
                if stop.is_set() or (duration is not None and index >= duration * summary.fps):
                    stop.set()
                    break
                if pace and frame.time is not None:
                    clock = clock or (time.monotonic(), frame.time)
                    ahead = (frame.time - clock[1]) - (time.monotonic() - clock[0])
                    if ahead > 0:
                        time.sleep(min(ahead, 1.0))
                is_end = index + 1 >= wf and (index + 1 - wf) % sf == 0
                needed = windows.needed(index)
                if is_end:
                    newest_end[0] = index
                if needed or is_end:
                    _put_dropping_oldest(frames, (index, frame_to_rgb(frame, size) if needed else None,
                                                  time.monotonic(), is_end), summary)
                if writer is not None:
                    writer.add(index, frame)
                    writer.flush()
                index += 1
                summary.frames = index
            container.close()
            container = None
            while not stop.is_set() and container is None and tries < reconnect:
                tries += 1
                time.sleep(min(2.0, 0.5 * tries))
                try:
                    container = reopen()
                except LiveSourceError:
                    continue
        if not stop.is_set():
            summary.ended = (f"{summary.source}: the stream ended or the connection was lost after "
                             f"{index / summary.fps:.1f} s" + (f" and {tries} reconnect tries" if tries
                                                              else " (--reconnect N retries)"))
    except BaseException as err:  # noqa: BLE001  (re-raised in the model thread)
        failures.append(err)
    finally:
        if container is not None:
            container.close()
        if writer is not None:
            if not writer.labels and writer.pending:  # no window ended: the frames say no label exists yet
                writer.label(index, "(no label yet)")
                writer.flush()
            writer.close(ok=not failures)


def _put_dropping_oldest(frames: queue.Queue, item: tuple, summary: LiveSummary) -> None:
    while True:
        try:
            frames.put_nowait(item)
            return
        except queue.Full:  # the model is behind: drop the oldest waiting frame
            try:
                frames.get_nowait()
                summary.dropped += 1
            except queue.Empty:
                pass
