"""Command line: classify a video file or URL with a saved model.

    python -m helpers classify SOURCE [--model PATH] [--output annotated.mp4] [--json]
    python -m helpers classify {--camera N | rtsp://... | URL.m3u8 | --live URL} [--duration S] [--reconnect N] ...
    python -m helpers export MODEL.keras --format {saved_model,tflite} [--quantize {none,float16,dynamic,int8}]
                             --output PATH [--calibration TRAINING_VIDEOS_DIR [--per-channel]]
    python -m helpers env [--json]
    python -m helpers train FOLDER [--model lrcn|convlstm|cnn|rnn|hybrid] [--epochs N] [--export tflite] [--output DIR]
    python -m helpers demo [--model PATH] [--host 127.0.0.1] [--port N]   (a page in the browser: pip install .[demo])


SOURCE is a local file or an http(s) URL (YouTube, Vimeo, a direct link: anything
:func:`helpers.download.download_video` accepts). The default model is the LRCN that
``make run`` trains (``results/models/lrcn.keras``). Prints the top classes; ``--json``
prints exactly one JSON object instead. A camera or live stream (:mod:`har_app.live`) prints one line per
prediction as it is made (``--json``: one JSON object each, then the run's summary). Exit status 0 on success,
1 on any failure (with one ``error: ...`` line on stderr), 2 on bad arguments (checked before any work,
:func:`check_args`: numbers, the output's suffix, an output that would replace a folder or an input), 130 on
Ctrl-C and 143 on SIGTERM (handled alike: temporary outputs removed), 141 when stdout's reader has gone (``| head``).
A live run and the ``demo`` server are meant to be stopped that way: Ctrl-C or SIGTERM ends them cleanly, status 0.

``--model`` also takes a ``.tflite`` file written by ``export`` (its ``.tflite.json`` metadata beside it):
it then runs through the LiteRT interpreter (:mod:`helpers.runtime`), without importing TensorFlow.
The model's card (:mod:`helpers.cards`) says what it was trained on: ``--json`` gives its ``trained_on`` and
``limits`` (null without a card), the text output its first limit, once.
``export`` writes a SavedModel or a TFLite file (float32 or quantized; full int8 calibrated on the training
videos of ``--calibration``).

``env`` describes the machine for a bug report: Python, TensorFlow, Keras, OpenCV and its
FFmpeg, PyAV (the decoder) and its FFmpeg, the GPUs TensorFlow sees, yt-dlp and its JavaScript runtime.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import re
import signal
import sys
import urllib.parse
import warnings
from collections.abc import Iterator
from pathlib import Path

from har_app import own_videos
from helpers import atomic
from helpers.config import project_paths
from helpers.logs import TF_LOGS_ENV, error_line, quiet_native_stderr
from helpers.logs import printable as _printable


class _OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line (and exit status 2)."""

    def error(self, message: str) -> None:
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m helpers`` argument parser (sub-commands ``classify``, ``export`` and ``env``)."""
    from helpers.download import DOWNLOAD_LIMITS

    paths = project_paths()
    parser = _OneLineParser(prog="python -m helpers", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_OneLineParser)
    classify = commands.add_parser("classify", help="classify a video file or URL",
                                   description="Classify a video file or URL with a saved .keras or exported .tflite "
                                               "model.")
    classify.add_argument("source", nargs="?", help="video file or URL (rtsp/rtmp/srt/udp/.m3u8: a live stream)")
    classify.add_argument("--model", type=Path, default=paths.models_dir / "lrcn.keras",
                          help="saved .keras model or exported .tflite file (default: %(default)s, trained by "
                               "`make run`)")
    classify.add_argument("--output", type=Path, default=None,
                          help="also write an annotated copy (.mp4/.avi) with the smoothed label on every frame")
    classify.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    classify.add_argument("--top", type=int, default=3, help="classes to print (default: %(default)s)")
    classify.add_argument("--window", type=float, default=None,
                          help="--output: window span in seconds (default: DEFAULT_WINDOW_S, grown at low frame rates)")
    classify.add_argument("--stride", type=float, default=None, help="--output: step between windows in seconds")
    classify.add_argument("--smoothing", type=int, default=None, help="--output: windows averaged against flicker")
    classify.add_argument("--download-dir", type=Path, default=paths.data_dir / "downloads",
                          help="where URLs are downloaded (default: %(default)s)")
    classify.add_argument("--max-filesize-mb", type=float, default=DOWNLOAD_LIMITS["max_filesize"] / 2**20,
                          help="download size limit in MiB")
    classify.add_argument("--max-duration", type=float, default=DOWNLOAD_LIMITS["max_duration"],
                          help="download duration limit in seconds")
    classify.add_argument("--download-timeout", type=float, default=DOWNLOAD_LIMITS["timeout"],
                          help="seconds a whole download may take; a stalled server ends with one line "
                               "(default: %(default)s)")
    classify.add_argument("--verbose", action="store_true",
                          help="keep TensorFlow's and FFmpeg's native log lines and show tracebacks on errors")
    live = classify.add_argument_group("live sources (har_app.live): classified as they play")
    live.add_argument("--camera", default=None, help="a camera: its number (0) or device path, instead of SOURCE")
    live.add_argument("--live", action="store_true", help="SOURCE is an http(s) live stream or a YouTube live page")
    live.add_argument("--duration", type=float, default=None, help="stop after this many seconds of the stream")
    live.add_argument("--reconnect", type=int, default=0, help="tries to reopen a lost stream (default: %(default)s)")
    export = commands.add_parser("export", help="export a .keras model as a SavedModel or a TFLite file",
                                 description="Export a .keras model (helpers.deploy.export_model), metadata beside it.")
    export.add_argument("model", type=Path, help="saved .keras model")
    export.add_argument("--format", choices=("saved_model", "tflite"), default="tflite",  # helpers.deploy.FORMATS
                        help="a TF SavedModel folder or a LiteRT/TFLite file (default: %(default)s)")
    export.add_argument("--quantize", choices=("none", "float16", "dynamic", "int8"), default="none",
                        help="tflite only (default: %(default)s); int8 needs --calibration")
    export.add_argument("--output", type=Path, required=True, help="the .tflite file or SavedModel folder to write")
    export.add_argument("--calibration", type=Path, default=None,
                        help="int8: a folder of TRAINING videos (never test videos) to calibrate on")
    export.add_argument("--calibration-clips", type=int, default=100, help="int8: videos used (default: %(default)s)")
    export.add_argument("--per-channel", action="store_true",
                        help="int8: one scale per output channel (the converter's default; better for depthwise "
                             "convolutions) instead of one per tensor")
    export.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    export.add_argument("--verbose", action="store_true", help="keep TensorFlow's native log lines and tracebacks")
    env = commands.add_parser("env", help="describe this machine for a bug report",
                              description="Python, TensorFlow, Keras, OpenCV/FFmpeg, GPUs, yt-dlp and its JS runtime.")
    env.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    env.add_argument("--verbose", action="store_true", help="keep TensorFlow's native log lines")
    demo = commands.add_parser("demo", help="a page in the browser: upload a video, paste a URL or use the webcam",
                               description="Serve a local page that classifies videos (har_app.demo; needs the "
                                           "[demo] extra: Gradio).")
    demo.add_argument("--model", type=Path, default=paths.models_dir / "lrcn.keras",
                      help="saved .keras model or exported .tflite file (default: %(default)s)")
    demo.add_argument("--host", default="127.0.0.1", help="interface to serve on (default: %(default)s, this machine)")
    demo.add_argument("--port", type=int, default=None, help="port (default: the first free one from 7860)")
    demo.add_argument("--download-dir", type=Path, default=paths.data_dir / "downloads", help=argparse.SUPPRESS)
    demo.add_argument("--verbose", action="store_true", help="show tracebacks on errors")
    demo.set_defaults(json=False)
    own_videos.add_parser(commands)  # train (its TensorFlow and matplotlib imports wait until it runs)
    return parser


def check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse bad arguments before any work (one line, exit status 2); no side effects (the run that follows
    removes killed runs' leftovers beside the output, :func:`main`)."""
    positive = {"classify": ("window", "stride", "max_filesize_mb", "max_duration", "download_timeout", "top",
                             "smoothing", "duration"), "export": ("calibration_clips",)}.get(args.command, ())
    if args.command == "classify":  # the live sources' arguments (har_app.live)
        if (args.source is None) == (args.camera is None):
            parser.error("give a source (a file or URL) or --camera N, not both" if args.source else
                         "the following arguments are required: source (a file or URL), or --camera N")
        if args.reconnect < 0:
            parser.error(f"--reconnect must be >= 0, got {args.reconnect}")
    for name in positive:
        value = getattr(args, name)
        if value is not None and not (math.isfinite(value) and value > 0):
            parser.error(f"--{name.replace('_', '-')} must be a finite number > 0, got {value}")
    output = getattr(args, "output", None)
    if output is None or args.command not in ("classify", "export"):
        return
    if args.command == "classify":
        from helpers.annotate import ANNOTATED_CODECS  # the writer's own suffixes (no TensorFlow)

        if output.suffix.lower() not in ANNOTATED_CODECS:
            parser.error(f"--output {output}: an annotated video ends in one of {', '.join(sorted(ANNOTATED_CODECS))}")
    source = getattr(args, "source", None)
    inputs = [args.model, getattr(args, "calibration", None), None if source is None or _is_url(source) else source]
    try:
        atomic.check_target(output, directory=getattr(args, "format", None) == "saved_model", inputs=inputs)
    except atomic.RefusedTarget as err:
        parser.error(f"--output {_printable(str(err))}")


def _check_model_file(path: Path) -> None:
    """One line for a model path that is missing, a folder or not a .keras archive, before TensorFlow loads."""
    import zipfile

    if path.is_dir():
        raise IsADirectoryError(f"{path}: is a folder, not a model file (a .keras or an exported .tflite file)")
    if not path.is_file():  # before any download or TensorFlow import
        raise FileNotFoundError(f"{path}: model file does not exist (train one with `python -m helpers train FOLDER`, "
                                "notebooks/01_lrcn.ipynb or `make run`, and pass it as --model)")
    if path.suffix == ".keras" and not zipfile.is_zipfile(path):
        raise ValueError(f"{path}: not a loadable .keras model (not a zip archive: corrupt, cut short or another "
                         "format)")


def _ffmpeg(build_information: str) -> dict | None:
    """OpenCV's FFmpeg libraries and versions from ``cv2.getBuildInformation()``; None without FFmpeg."""
    section = re.search(r"^\s*FFMPEG:\s*(\w+)\n((?:\s{6,}\S.*\n)*)", build_information, re.MULTILINE)
    if section is None or section.group(1) != "YES":
        return None
    return dict(re.findall(r"^\s*(\w+):\s*YES \(([^)]*)\)", section.group(2), re.MULTILINE))


def environment() -> dict:
    """The machine a bug report needs: versions, OpenCV's FFmpeg, GPUs, yt-dlp's JavaScript runtime."""
    import av
    import cv2
    import keras
    import tensorflow as tf
    import yt_dlp.version

    from helpers import __version__
    from helpers.download import js_runtime

    return {
        "helpers": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "tensorflow": tf.__version__,
        "tensorflow_cuda": tf.test.is_built_with_cuda(),
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "opencv": cv2.__version__,
        "ffmpeg": _ffmpeg(cv2.getBuildInformation()),
        "pyav": f"{av.__version__} (FFmpeg {av.ffmpeg_version_info})",  # the decoder
        "gpus": [gpu.name for gpu in tf.config.list_physical_devices("GPU")],
        "yt_dlp": yt_dlp.version.__version__,
        "js_runtime": js_runtime(),
        "quick": os.environ.get("HAR_QUICK"),
        "project_root": str(project_paths().data_dir.parent),
    }


def _is_url(source: str) -> bool:
    return bool(urllib.parse.urlparse(source).scheme) and "://" in source


def classify(args: argparse.Namespace) -> dict:
    """Run ``classify``; returns the result as a JSON-ready dict (raises on any failure)."""
    from har_app.live import is_live_url

    if args.camera is not None or args.live or is_live_url(args.source):
        return classify_live(args)
    remote = _is_url(args.source)
    if not remote:
        from helpers.video import check_video_file

        check_video_file(args.source)  # the library's messages: missing, a directory, a pipe, unreadable, empty
    _check_model_file(args.model)
    progress = sys.stderr.isatty()
    if remote:
        from helpers.download import download_video

        video = download_video(args.source, args.download_dir, max_filesize=int(args.max_filesize_mb * 2**20),
                               max_duration=args.max_duration, timeout=args.download_timeout, progress=progress)
    else:
        video = Path(args.source)

    from helpers import inference  # no TensorFlow until a .keras model is loaded

    model = inference.load_for_inference(args.model)  # a .keras model, or a .tflite file's interpreter
    prediction = inference.predict_single_action(model, video)
    result = {
        "source": args.source,
        "video": str(video),
        "model": str(args.model),
        **_card_summary(args.model),
        "label": prediction.label,
        "confidence": prediction.confidence,
        "probabilities": prediction.probabilities,
        "top": [{"label": name, "probability": p} for name, p in prediction.top(args.top)],
    }
    if args.output is not None:
        options = _window_options(args)
        with warnings.catch_warnings(record=True) as caught:  # e.g. a window grown at a low frame rate
            warnings.simplefilter("always")
            stream = inference.predict_on_video(model, video, args.output, progress=progress, **options)
        notes = []
        for w in caught:  # the video's own notes as one line each, every other warning as usual, in order
            if str(w.message).startswith(f"{video}:"):
                notes.append(str(w.message))
                print(f"note: {w.message}", file=sys.stderr)
            else:
                warnings.showwarning(w.message, w.category, w.filename, w.lineno)
        result["annotated"] = {
            "path": str(stream.output_path),
            "windows": stream.num_windows,
            "window_s": stream.window_frames / stream.fps,
            "stride_s": stream.stride_frames / stream.fps,
            "smoothing": stream.smoothing,
            "label_changes_raw": stream.label_changes(),
            "label_changes_smoothed": stream.label_changes(smoothed=True),
            "notes": notes,
        }
    return result


def _window_options(args: argparse.Namespace) -> dict:
    """``--window``, ``--stride`` and ``--smoothing`` where given: the file path and the live path take the same."""
    return {key: value for key in ("window", "stride", "smoothing") if (value := getattr(args, key)) is not None}


def classify_live(args: argparse.Namespace) -> dict:
    """``classify`` on a camera or live stream: one line per prediction as it is made (``--json``: a JSON object
    each); returns the run's summary. A lost connection (after ``--reconnect`` tries) raises after it."""
    from har_app import live
    from helpers import inference

    _check_model_file(args.model)
    source, fmt = live.camera_source(args.camera) if args.camera is not None else (args.source, None)
    if args.camera is None and args.live:
        source = live.resolve_stream_url(args.source)  # a live page (YouTube): its stream URL, nothing downloaded
    options = _window_options(args)

    def show(p: live.LivePrediction) -> None:
        print(json.dumps(p.as_dict()) if args.json else
              f"{p.time_s:8.1f} s  {p.label} {p.probability:.0%}  ({p.latency_ms:.0f} ms)", flush=True)

    summary = live.classify_live(inference.load_for_inference(args.model), source, format=fmt,
                                 output_path=args.output, duration=args.duration, reconnect=args.reconnect,
                                 on_prediction=show, **options).as_dict()
    if summary["ended"] not in ("duration", "interrupted"):
        raise live.LiveSourceError(summary["ended"])
    return {"live": summary, **_card_summary(args.model)}


def _card_summary(model_path: Path) -> dict:
    """The model card's ``trained_on`` and ``limits`` (None without a card, :func:`helpers.cards.read_card`)."""
    from helpers.cards import read_card

    with warnings.catch_warnings(record=True) as caught:  # a stale card: one note line, and no card
        warnings.simplefilter("always")
        card = read_card(model_path) or {}
    for w in caught:
        print(f"note: {_printable(str(w.message))}", file=sys.stderr)
    return {"trained_on": card.get("trained_on"), "limits": card.get("limits")}


def demo(args: argparse.Namespace) -> dict:
    """Run ``demo`` until Ctrl-C (:mod:`har_app.demo`, which imports Gradio)."""
    _check_model_file(args.model)
    from har_app import demo as page

    return {"demo": page.serve(args.model, host=args.host, port=args.port, download_dir=args.download_dir)}


def export(args: argparse.Namespace) -> dict:
    """Run ``export``; returns the result as a JSON-ready dict (raises on any failure)."""
    _check_model_file(args.model)
    if (args.quantize == "int8") != (args.calibration is not None):
        raise ValueError("--calibration (a folder of training videos) is needed for --quantize int8, and only for it")
    from helpers.deploy import export_model, metadata_path
    from helpers.models import load_model, model_spec

    model, clips = load_model(args.model, compile=False), None
    if args.calibration is not None:
        spec = model_spec(model)
        clips = calibration_clips(args.calibration, count=args.calibration_clips, num_frames=spec.num_frames,
                                  image_size=spec.image_size)
    path = export_model(model, args.output, format=args.format, quantize=args.quantize, representative_clips=clips,
                        per_channel=args.per_channel)
    size = path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return {"model": str(args.model), "output": str(path), "metadata": str(metadata_path(path)), "format": args.format,
            "quantize": args.quantize, "per_channel": args.per_channel, "size_bytes": size}


def calibration_clips(folder: Path, *, count: int, num_frames: int, image_size: int):
    """uint8 clips ``(num_clips, num_frames, image_size, image_size, 3)`` of up to ``count`` videos spread over
    ``folder`` (every class, not its first videos); an unreadable video is skipped with a ``note:`` line."""
    import numpy as np

    from helpers.video import VIDEO_EXTENSIONS, VideoReadError, frame_extraction

    videos = sorted(p for p in folder.rglob("*") if p.suffix.lower() in VIDEO_EXTENSIONS)
    clips = []
    for video in videos[::max(1, len(videos) // count)][:count]:
        try:
            clips.append(frame_extraction(video, num_frames=num_frames, image_size=image_size))
        except VideoReadError as err:
            print(f"note: calibration skips {_printable(str(err))}", file=sys.stderr)
    if not clips:
        raise ValueError(f"{folder}: no readable videos to calibrate on")
    return np.stack(clips)


class _Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, a job scheduler) handled like Ctrl-C: ``finally`` blocks remove temporary outputs."""


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Raise :class:`_Terminated` on SIGTERM in the block (run from the main thread, as signals are)."""

    def terminate(signum, frame):
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _print_text(result: dict) -> None:
    if "live" in result:
        s = result["live"]
        latency = f"latency p50 {s['latency_ms_p50']:.0f} ms, p95 {s['latency_ms_p95']:.0f} ms" if s["windows"] else ""
        print(f"{_printable(s['source'])}: {s['windows']} labels, {s['frames']} frames ({s['dropped']} dropped) "
              f"{latency}; ended: {s['ended']}")
    else:
        print(f"{_printable(result['video'])}: {_printable(result['label'])} ({result['confidence']:.1%})")
        top = [(_printable(item["label"]), item["probability"]) for item in result["top"]]
        width = max(len(label) for label, _ in top)
        for label, probability in top:
            print(f"  {label:<{width}}  {probability:6.1%}")
    if "annotated" in result:
        a = result["annotated"]
        print(f"annotated video: {_printable(a['path'])} ({a['windows']} windows of {a['window_s']:.2f} s; label "
              f"changes {a['label_changes_raw']} raw -> {a['label_changes_smoothed']} smoothed over {a['smoothing']})")
    if result.get("trained_on") or result.get("limits"):  # the model card's first limit, once
        print(f"model card: trained on {_printable(result['trained_on'] or 'data not recorded')}. "
              f"{_printable((result['limits'] or [''])[0])}".rstrip())


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m helpers``; returns the exit status."""
    if argv is None:
        argv = sys.argv[1:]
        if Path(sys.argv[0]).name == "har-classify":  # the console script is `classify` itself
            argv = ["classify", *argv]
    parser = build_parser()
    args = parser.parse_args(argv)
    check_args(parser, args)
    if args.verbose:
        os.environ[TF_LOGS_ENV] = "1"  # before TensorFlow's first import: helpers' import hook lets its lines through
        import av.logging

        av.logging.set_level(av.logging.WARNING)  # PyAV's FFmpeg is silent unless asked
    with quiet_native_stderr(not args.verbose), _sigterm_as_interrupt():
        try:
            if getattr(args, "output", None) is not None and args.command in ("classify", "export"):
                atomic.remove_stale(args.output, whole_folder=True)  # what a killed (SIGKILL) run left beside it
            command = {"classify": classify, "export": export, "train": own_videos.run, "demo": demo}.get(args.command)
            result = command(args) if command else environment()
        except BrokenPipeError:  # a live run's lines into `| head`: the reader has gone
            return _stdout_gone()
        except KeyboardInterrupt as err:
            print("error: interrupted", file=sys.stderr)
            return 143 if isinstance(err, _Terminated) else 130
        except Exception as err:  # any failure: one line, no traceback (unless --verbose)
            if args.verbose:
                raise
            print(f"error: {error_line(err)}", file=sys.stderr)
            return 1
    try:
        _print_result(args, result)
        sys.stdout.flush()
    except BrokenPipeError:  # `| head` closed the pipe
        return _stdout_gone()
    return 0


def _stdout_gone() -> int:
    """Exit status 141 (SIGPIPE's) when stdout's reader has gone, with no traceback at exit either."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 141


def _print_result(args: argparse.Namespace, result: dict) -> None:
    if args.json:
        print(json.dumps(result))
    elif args.command == "export":
        print(f"{result['output']}: {result['size_bytes'] / 1024:.1f} KiB, metadata {result['metadata']}")
    elif args.command == "train":
        own_videos.print_text(result)
    elif args.command == "demo":
        print(f"{result['demo']}: stopped")
    elif args.command == "env":
        for key, value in result.items():
            print(f"{key}: {value}")
    else:
        _print_text(result)

