"""``python -m helpers classify``: exit codes, one-line errors, and the JSON contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import pytest

from helpers.__main__ import main
from helpers.models import build_lrcn, save_model
from tests.conftest import numbered_frames, write_video
from tests.serve import closed_port_url, serve_directory

CLASS_NAMES = ["Jumping", "SitDown", "StandUp"]


@pytest.fixture(scope="module")
def model_path(tmp_path_factory) -> Path:
    """An untrained tiny LRCN: the CLI contract does not need a trained model."""
    keras.utils.set_random_seed(0)
    model = build_lrcn(num_classes=3, num_frames=8, image_size=64)
    return save_model(model, tmp_path_factory.mktemp("model") / "tiny.keras", class_names=CLASS_NAMES)


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    return write_video(tmp_path_factory.mktemp("video") / "clip.avi", numbered_frames(40, size=64))


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "helpers", "classify", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def assert_one_line_error(stderr: str, *needles: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{stderr}"
    assert lines[0].startswith("error: ")
    for needle in needles:
        assert needle in lines[0]


def test_json_output_and_annotated_video(model_path, video, tmp_path):
    out = tmp_path / "annotated.mp4"
    proc = run_cli(str(video), "--model", str(model_path), "--json", "--output", str(out), "--window", "0.8",
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)  # exactly one JSON document on stdout
    assert isinstance(result, dict)
    assert set(result["probabilities"]) == set(CLASS_NAMES)
    assert sum(result["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    assert result["label"] == max(result["probabilities"], key=result["probabilities"].get)
    assert result["confidence"] == result["probabilities"][result["label"]]
    assert result["annotated"]["path"] == str(out) and out.is_file()
    assert result["annotated"]["windows"] >= 1


def test_a_5_fps_clip_streams_with_output(tmp_path):
    """The paper's num_frames=20 at 5 fps: the default window (2.6 s, 13 frames) grows to 4 s, in one line."""
    keras.utils.set_random_seed(0)
    model = save_model(build_lrcn(num_classes=3, num_frames=20, image_size=64), tmp_path / "lrcn20.keras",
                       class_names=CLASS_NAMES)
    video = write_video(tmp_path / "cctv.avi", numbered_frames(50, size=64), fps=5)
    out = tmp_path / "cctv_annotated.mp4"
    proc = run_cli(str(video), "--model", str(model), "--output", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines() == [f"note: {video}: 5 fps; the window grows from 2.6 s to 4.00 s "
                                                "to hold the model's num_frames=20"]
    assert out.is_file() and "annotated video:" in proc.stdout


@pytest.mark.parametrize("case", ["missing video", "directory", "missing model", "refused URL", "non-http URL"])
def test_failures_exit_nonzero_with_one_line(case, model_path, video, tmp_path):
    args = {
        "missing video": [str(tmp_path / "nope.mp4"), "--model", str(model_path)],
        "directory": [str(tmp_path), "--model", str(model_path)],
        "missing model": [str(video), "--model", str(tmp_path / "none.keras")],
        "refused URL": [closed_port_url(), "--model", str(model_path), "--download-dir", str(tmp_path / "dl")],
        "non-http URL": ["ftp://127.0.0.1/clip.avi", "--model", str(model_path)],
    }[case]
    needle = {"missing video": "nope.mp4: file does not exist", "directory": "is a directory, not a video file",
              "missing model": "none.keras", "refused URL": "connection refused",
              "non-http URL": "not an http"}[case]
    proc = run_cli(*args, cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert_one_line_error(proc.stderr, needle)


def test_usage_error_is_one_line(tmp_path):
    proc = run_cli(cwd=tmp_path)
    assert proc.returncode == 2
    assert_one_line_error(proc.stderr, "source")


def test_default_model_path_is_the_trained_lrcn():
    from helpers.__main__ import build_parser
    from helpers.config import project_paths

    args = build_parser().parse_args(["classify", "video.mp4"])
    assert args.model == project_paths().models_dir / "lrcn.keras"


# In-process runs below: same main(), without paying a TensorFlow start-up per case.

def test_url_source_end_to_end(model_path, video, tmp_path, capsys):
    with serve_directory(video.parent) as base_url:
        code = main(["classify", base_url + video.name, "--model", str(model_path), "--json",
                     "--download-dir", str(tmp_path / "dl")])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    result = json.loads(captured.out)
    assert Path(result["video"]).parent == (tmp_path / "dl").resolve()
    assert set(result["probabilities"]) == set(CLASS_NAMES)


def test_http_404_is_one_line(model_path, video, tmp_path, capsys):
    with serve_directory(video.parent) as base_url:
        code = main(["classify", base_url + "missing.mp4", "--model", str(model_path),
                     "--download-dir", str(tmp_path / "dl")])
    captured = capsys.readouterr()
    assert code == 1 and captured.out == ""
    assert_one_line_error(captured.err, "404")


def test_text_output_lists_top_classes(model_path, video, capsys):
    assert main(["classify", str(video), "--model", str(model_path), "--top", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith(f"{video}: ")
    assert any(name in lines[1] for name in CLASS_NAMES)


def test_model_data_mismatch_is_one_line(model_path, tmp_path, capsys):
    short = write_video(tmp_path / "short.avi", numbered_frames(5, size=64))  # the model needs 8 frames
    assert main(["classify", str(short), "--model", str(model_path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert_one_line_error(captured.err, "short.avi", "too short", "num_frames=8")


def test_not_a_model_file_is_one_line(video, tmp_path, capsys):
    bogus = tmp_path / "bogus.keras"
    bogus.write_bytes(b"not a zip")
    assert main(["classify", str(video), "--model", str(bogus)]) == 1
    assert_one_line_error(capsys.readouterr().err, "bogus.keras", "not a loadable")


def test_env_json_describes_the_machine(tmp_path):
    """`python -m helpers env --json`: one JSON object with what a bug report needs; yt-dlp has its JS runtime."""
    env = {k: v for k, v in os.environ.items() if k not in {"TF_CPP_MIN_LOG_LEVEL", "HAR_TF_LOGS"}}
    done = subprocess.run([sys.executable, "-m", "helpers", "env", "--json"], cwd=tmp_path,
                          env={**env, "PYTHONWARNINGS": "ignore"}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert {"python", "tensorflow", "keras", "opencv", "ffmpeg", "gpus", "yt_dlp", "js_runtime"} <= report.keys()
    assert report["python"] == ".".join(map(str, sys.version_info[:3]))
    assert isinstance(report["gpus"], list)
    assert report["ffmpeg"] and "avcodec" in report["ffmpeg"]  # the headless wheel decodes with FFmpeg
    assert report["js_runtime"] is not None and report["js_runtime"]["name"] == "deno"
    assert "cuInit" not in done.stderr and "oneDNN" not in done.stderr


def test_ffmpeg_section_of_opencv_build_information():
    from helpers.__main__ import _ffmpeg

    info = "  Video I/O:\n    FFMPEG:                      YES\n      avcodec:                   YES (59.37.100)\n" \
           "      avresample:                NO\n    GStreamer:                   NO\n"
    assert _ffmpeg(info) == {"avcodec": "59.37.100"}
    assert _ffmpeg("  Video I/O:\n    FFMPEG:                      NO\n") is None
