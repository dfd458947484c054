"""A page in the browser: ``python -m helpers demo [--model M] [--host 127.0.0.1] [--port N]`` (extra ``[demo]``).

Upload a video or paste a URL (downloaded as ``classify`` downloads it): the top labels with their probabilities
(:func:`helpers.inference.predict_single_action`, as ``classify`` prints them), the per-window timeline of the
annotated run and the annotated video (:func:`helpers.inference.predict_on_video`, as ``classify --output``). The
camera tab classifies the browser's webcam frames as they stream in, with
:class:`helpers.inference.SlidingWindows` (the mechanism of a file and of :mod:`har_app.live`). A failure is the
CLI's ``error: ...`` line (:func:`helpers.logs.error_line`), on the page. The model is loaded once, at start.

Gradio (a maintained library for exactly this: upload, webcam streaming, a client for tests) is imported only by
:func:`build_page`: the CLI's other commands never load it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from helpers.download import DOWNLOAD_LIMITS
from helpers.logs import error_line

#: Seconds between webcam frames the browser sends; the camera's windows count frames at this rate.
CAMERA_FRAME_S = 0.1
#: What the page says of the default model when no card says more.
DEFAULT_TRAINED_ON = ("the embedded dataset (`make run`): rendered clips of simple figures, not recordings of real "
                      "people; expect it to be wrong on real videos")


def model_caveat(model_path: str | os.PathLike, class_names: tuple[str, ...]) -> str:
    """The model card's caveat in Markdown: the classes, what the model was trained on, and its limits.

    Read from the model's card (:func:`helpers.cards.read_card`: beside a ``.keras`` model, or in an export's
    sidecar, each checked against the model file); without one, :data:`DEFAULT_TRAINED_ON`.
    """
    import warnings

    from helpers.cards import read_card

    path = Path(model_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a stale or unreadable card counts as none (classify's note says why)
        try:
            card = read_card(path) or {}
        except (OSError, ValueError):
            card = {}
    lines = [f"**Model** `{path.name}`: {len(class_names)} classes, every video gets one of them "
             f"(there is no \"none of these\"): {', '.join(class_names)}."]
    said = [f"**Trained on**: {card['trained_on']}"] if card.get("trained_on") else []
    if card.get("limits"):
        said.append("**Limits**: " + " ".join(map(str, card["limits"])))
    return "\n\n".join(lines + (said or [f"**Trained on**: {DEFAULT_TRAINED_ON}."]))


def classify_video(model, video: Path, *, work_dir: Path, top: int = 3) -> tuple[dict[str, float], list, Path]:
    """What the page shows for one video: ``({label: probability} of the ``top`` classes, the timeline rows
    ``[(end_s, class, smoothed probability)]``, the annotated video)``; raises as ``classify`` does."""
    from helpers.inference import predict_on_video, predict_single_action

    prediction = predict_single_action(model, video)
    out = Path(tempfile.mkdtemp(dir=work_dir)) / f"{video.stem[:60]}_annotated.mp4"
    stream = predict_on_video(model, video, out)
    rows = [(float(t), name, float(p)) for t, probs in zip(stream.end_s, stream.smoothed, strict=True)
            for name, p in zip(stream.class_names, probs, strict=True)]
    return dict(prediction.top(top)), rows, out


class CameraWindows:
    """The webcam tab's windows: browser frames (RGB arrays) fed to :class:`helpers.inference.SlidingWindows`
    at :data:`CAMERA_FRAME_S` seconds a frame, the newest due window predicted (as a live stream that is behind)."""

    def __init__(self, model):
        from helpers.inference import DEFAULT_SMOOTHING, DEFAULT_STRIDE_S, SlidingWindows, as_predictor

        self.windows = SlidingWindows(as_predictor(model), fps=1 / CAMERA_FRAME_S, window=None,
                                      stride=DEFAULT_STRIDE_S, smoothing=DEFAULT_SMOOTHING, name="webcam")
        self.index = 0

    def add(self, rgb) -> dict[str, float] | None:
        """One ``(height, width, 3)`` uint8 frame; the smoothed probabilities when a window ended, else None."""
        import av
        import numpy as np

        from helpers.video import frame_to_rgb

        windows = self.windows
        if windows.needed(self.index):  # the frame as a decoded one: the same resize as training's
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb[..., :3]), format="rgb24")
            windows.add(self.index, frame_to_rgb(frame, windows.spec.image_size))
        self.index += 1
        if not windows.update(self.index, latest_only=True):
            return None
        return {name: float(p) for name, p in zip(windows.spec.class_names, windows.latest.smoothed, strict=True)}


def build_page(model, *, model_path: str | os.PathLike, download_dir: Path, work_dir: Path):
    """The page (a ``gradio.Blocks``): a video tab (upload or URL; endpoint ``/classify``) and a camera tab."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # a local page reports nothing anywhere
    try:
        import gradio as gr
    except ImportError as err:
        raise ImportError(f"the page needs Gradio ({err}): pip install '.[demo]' (or gradio from requirements.txt)") \
            from None
    import pandas as pd

    from helpers.download import download_video
    from helpers.inference import as_predictor
    from helpers.video import check_video_file

    spec = as_predictor(model).spec

    def classify(upload: str | None, url: str | None):
        try:
            if upload:
                video = check_video_file(upload)
            elif url and url.strip():
                video = download_video(url.strip(), download_dir, **DOWNLOAD_LIMITS)
            else:
                raise ValueError("upload a video or paste its URL first")
            top, rows, annotated = classify_video(model, video, work_dir=work_dir)
        except Exception as err:  # the CLI's one line; an upload is named by its file name, not gradio's cache path
            message = f"error: {error_line(err)}"
            raise gr.Error(message.replace(str(upload), Path(upload).name) if upload else message,
                           print_exception=False) from None
        timeline = pd.DataFrame(rows, columns=["time_s", "class", "probability"])
        return top, timeline, str(annotated)

    def camera(frame, state):
        if frame is None:
            return gr.skip(), state
        state = state or CameraWindows(model)
        probs = state.add(frame)
        return (gr.skip() if probs is None else probs), state

    with gr.Blocks(title="Video classification") as page:
        gr.Markdown("# What happens in this video?")
        gr.Markdown(model_caveat(model_path, spec.class_names))
        with gr.Tab("Video"):
            with gr.Row():
                upload = gr.Video(label="Upload a video", sources=["upload"])
                with gr.Column():
                    url = gr.Textbox(label="or paste a URL", placeholder="https://...")
                    button = gr.Button("Classify", variant="primary")
            labels = gr.Label(label="Top classes", num_top_classes=3, elem_id="top-classes")
            timeline = gr.LinePlot(x="time_s", y="probability", color="class", label="Per window (smoothed)",
                                   x_title="end of window (s)", y_lim=[0, 1])
            annotated = gr.Video(label="Annotated video", interactive=False)
            # one model call at a time, from any tab or visitor: a LiteRT interpreter is not thread-safe
            button.click(classify, [upload, url], [labels, timeline, annotated], api_name="classify",
                         concurrency_id="model", concurrency_limit=1)
        with gr.Tab("Camera"):
            gr.Markdown(f"Frames from your webcam every {CAMERA_FRAME_S:g} s; a label every window "
                        f"(about {spec.num_frames} frames spread over the last seconds), smoothed as a file is.")
            with gr.Row():
                webcam = gr.Image(label="Webcam", sources=["webcam"], streaming=True, type="numpy")
                live_label = gr.Label(label="Now", num_top_classes=3, elem_id="camera-label")
            state = gr.State(None)
            webcam.stream(camera, [webcam, state], [live_label, state], stream_every=CAMERA_FRAME_S,
                          concurrency_id="model", concurrency_limit=1, api_name="camera")
    return page


def serve(model_path: str | os.PathLike, *, host: str = "127.0.0.1", port: int | None = None,
          download_dir: Path, block: bool = True):
    """Load the model once and serve the page on ``http://host:port/`` (a free port from 7860 when None).

    Returns:
        The running ``gradio.Blocks`` (``block=False``; ``page.close()`` stops it) or, after Ctrl-C, its URL.
    """
    from helpers.inference import load_for_inference

    model = load_for_inference(model_path)
    work_dir = Path(tempfile.mkdtemp(prefix="har-demo-"))
    page = build_page(model, model_path=model_path, download_dir=Path(download_dir), work_dir=work_dir)
    try:
        page.launch(server_name=host, server_port=port, prevent_thread_lock=not block, inbrowser=False, share=False,
                    max_file_size=DOWNLOAD_LIMITS["max_filesize"], allowed_paths=[str(work_dir)], quiet=not block)
    finally:
        if block:  # stopped: this session's annotated videos go with it
            shutil.rmtree(work_dir, ignore_errors=True)
    return page if not block else page.local_url
