"""``python -m helpers classify``: exit codes, one-line errors, and the JSON contract."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import pytest

from har_app.cli import build_parser, check_args, main
from helpers import atomic
from helpers.models import save_model
from helpers.paper_models import build_lrcn
from tests.conftest import numbered_frames, write_video
from tests.serve import TrickleHandler, closed_port_url, serve_directory

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
    from har_app.cli import build_parser
    from helpers.config import project_paths
    from helpers.download import DEFAULT_DOWNLOAD_TIMEOUT_S

    args = build_parser().parse_args(["classify", "video.mp4"])
    assert args.model == project_paths().models_dir / "lrcn.keras"
    assert args.download_timeout == DEFAULT_DOWNLOAD_TIMEOUT_S


def test_the_download_limits_are_defined_once_in_helpers_download(monkeypatch):
    """classify's defaults, download_video's and the demo page's are helpers.download.DOWNLOAD_LIMITS."""
    import inspect

    from har_app import demo
    from har_app.cli import build_parser
    from helpers import download

    defaults = {k: p.default for k, p in inspect.signature(download.download_video).parameters.items()}
    assert {k: defaults[k] for k in download.DOWNLOAD_LIMITS} == download.DOWNLOAD_LIMITS
    assert demo.DOWNLOAD_LIMITS is download.DOWNLOAD_LIMITS
    monkeypatch.setattr(download, "DOWNLOAD_LIMITS", {"max_filesize": 3 * 2**20, "max_duration": 4.0, "timeout": 5.0})
    args = build_parser().parse_args(["classify", "video.mp4"])
    assert (args.max_filesize_mb, args.max_duration, args.download_timeout) == (3.0, 4.0, 5.0)


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
    from har_app.cli import _ffmpeg

    info = "  Video I/O:\n    FFMPEG:                      YES\n      avcodec:                   YES (59.37.100)\n" \
           "      avresample:                NO\n    GStreamer:                   NO\n"
    assert _ffmpeg(info) == {"avcodec": "59.37.100"}
    assert _ffmpeg("  Video I/O:\n    FFMPEG:                      NO\n") is None


# Issue 25: misuse refused before any work, nothing destroyed, nothing left behind.

def usage_error(argv: list[str], capsys) -> str:
    """main(argv) must stop with exit status 2 and one ``error:`` line; returns that line."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert_one_line_error(err)
    return err.strip()


@pytest.mark.parametrize(("option", "value"), [("--stride", "-1"), ("--stride", "nan"), ("--window", "inf"),
                                               ("--top", "0"), ("--smoothing", "0"), ("--download-timeout", "0")])
def test_bad_numbers_are_usage_errors_before_any_work(option, value, tmp_path, capsys):
    line = usage_error(["classify", str(tmp_path / "missing.mp4"), option, value, "--model",
                        str(tmp_path / "missing.keras")], capsys)
    assert f"{option} must be a finite number > 0, got {value}" in line


def test_export_calibration_clips_zero_is_a_usage_error(tmp_path, capsys):
    line = usage_error(["export", str(tmp_path / "m.keras"), "--quantize", "int8", "--calibration", str(tmp_path),
                        "--calibration-clips", "0", "--output", str(tmp_path / "q.tflite")], capsys)
    assert "--calibration-clips must be a finite number > 0, got 0" in line


def test_the_output_suffix_is_checked_before_the_model_loads(video, tmp_path, capsys):
    bogus = tmp_path / "bogus.keras"
    bogus.write_bytes(b"not a zip")  # loading it would fail: the suffix must be refused first
    line = usage_error(["classify", str(video), "--model", str(bogus), "--output", str(tmp_path / "out.txt")], capsys)
    assert "out.txt: an annotated video ends in one of .avi, .m4v, .mkv, .mov, .mp4" in line


def test_outputs_never_replace_a_folder(model_path, video, tmp_path, capsys):
    """classify --output dir.mp4 and export --output r / exp/models deleted folders of the user's files."""
    folder = tmp_path / "dir.mp4"
    folder.mkdir()
    (folder / "keep.txt").write_text("keep")
    line = usage_error(["classify", str(video), "--model", str(model_path), "--output", str(folder)], capsys)
    assert "dir.mp4: is a folder" in line
    project = tmp_path / "r"
    (project / "models").mkdir(parents=True)
    model = (project / "models" / "m.keras")
    model.write_bytes(model_path.read_bytes())
    line = usage_error(["export", str(model), "--format", "saved_model", "--output", str(project)], capsys)
    assert "r: is a folder holding the input" in line
    line = usage_error(["export", str(model), "--format", "tflite", "--output", str(project / "models")], capsys)
    assert "models: is a folder holding the input" in line
    assert (folder / "keep.txt").read_text() == "keep" and model.read_bytes() == model_path.read_bytes()


def test_an_output_onto_an_input_is_refused_and_the_input_kept(model_path, video, tmp_path, capsys):
    """classify in.mp4 --output in.mp4 replaced the video; export m.keras --output m.keras the model."""
    clip = tmp_path / "in.avi"
    clip.write_bytes(video.read_bytes())
    link = tmp_path / "link.avi"
    link.symlink_to(clip)
    for output in (clip, link):
        line = usage_error(["classify", str(clip), "--model", str(model_path), "--output", str(output)], capsys)
        assert "is the input" in line
    assert clip.read_bytes() == video.read_bytes()
    model = tmp_path / "m.keras"
    model.write_bytes(model_path.read_bytes())
    line = usage_error(["export", str(model), "--output", str(model)], capsys)
    assert "m.keras: is the input" in line and model.read_bytes() == model_path.read_bytes()


@pytest.mark.parametrize("case", ["folder", "cut short"])
def test_a_model_folder_or_a_cut_short_model_is_one_clear_line(case, model_path, video, tmp_path, capsys):
    if case == "folder":
        model, needle = tmp_path, "is a folder, not a model file"
    else:
        model, needle = tmp_path / "cut.keras", "not a loadable .keras model (not a zip archive"
        model.write_bytes(model_path.read_bytes()[: model_path.stat().st_size // 2])
    assert main(["classify", str(video), "--model", str(model)]) == 1
    assert_one_line_error(capsys.readouterr().err, needle)


def test_class_names_with_control_characters_are_printed_escaped(video, tmp_path, capsys):
    """A class name holding an escape sequence and a newline could forge a line of output."""
    keras.utils.set_random_seed(0)
    evil = ["\x1b[31mJumping\nerror: forged", "SitDown", "StandUp"]
    model = save_model(build_lrcn(num_classes=3, num_frames=8, image_size=64), tmp_path / "evil.keras",
                       class_names=evil)
    assert main(["classify", str(video), "--model", str(model), "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and len(out.splitlines()) == 4
    assert "\\x1b[31mJumping\\nerror: forged" in out
    assert main(["classify", str(video), "--model", str(model), "--json"]) == 0  # JSON escapes them itself
    assert set(json.loads(capsys.readouterr().out)["probabilities"]) == set(evil)


def test_json_into_a_closed_pipe_exits_quietly(tmp_path):
    """`classify ... --json | head`: the reader has gone; no BrokenPipeError traceback."""
    code = ("import sys, har_app.cli as m\n"
            "m.classify = lambda args: {'label': 'x' * 100000}  # the command itself is not under test here\n"
            "sys.exit(m.main(['classify', 'v.mp4', '--json']))")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdout.close()  # like `head` that has read enough
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 141 and err == ""


def test_sigterm_is_handled_like_ctrl_c_and_leaves_nothing(model_path, video, tmp_path):
    """SIGTERM mid-download: one line, exit 143, and the partial download removed."""
    dl = tmp_path / "dl"
    with serve_directory(video.parent, handler=TrickleHandler) as base_url:
        proc = subprocess.Popen([sys.executable, "-m", "helpers", "classify", base_url + "trickle/" + video.name,
                                 "--model", str(model_path), "--download-dir", str(dl)],
                                cwd=tmp_path, env={**os.environ, "PYTHONWARNINGS": "ignore"},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(300):  # until the partial file exists
            if list(dl.glob(".download.tmp-*/*.part")):
                break
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and out == ""
    assert err.strip() == "error: interrupted"
    assert list(dl.iterdir()) == []


def test_a_killed_runs_temporary_output_is_removed_by_the_next_run(tmp_path, capsys):
    """SIGKILL leaves out.mp4.tmp-<host>-<pid>-*.mp4; the next command writing beside it removes it, even one
    that then fails."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    leftover = tmp_path / f"out.mp4.tmp-{atomic._host()}-{dead.pid}-k3x9a2b.mp4"
    leftover.write_bytes(b"half an annotated video")
    other = tmp_path / f"old.mp4.tmp-{atomic._host()}-{dead.pid}-ab12cd34.mp4"
    other.write_bytes(b"another target's leftover")
    argv = ["classify", str(tmp_path / "missing.avi"), "--output", str(tmp_path / "out.mp4")]
    parser = build_parser()
    check_args(parser, parser.parse_args(argv))  # validating the arguments removes nothing
    assert leftover.exists() and other.exists()
    assert main(argv) == 1
    assert not leftover.exists() and not other.exists()


def test_an_unreadable_calibration_video_is_skipped_with_a_note(tmp_path, capsys):
    from har_app.cli import calibration_clips

    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        write_video(tmp_path / name / "v.avi", numbered_frames(20, size=32))
    (tmp_path / "a" / "broken.avi").write_bytes(b"not a video")
    clips = calibration_clips(tmp_path, count=10, num_frames=4, image_size=16)
    assert clips.shape == (2, 4, 16, 16, 3)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("note: calibration skips ") and "broken.avi" in lines[0]
    (tmp_path / "a" / "v.avi").unlink()
    (tmp_path / "b" / "v.avi").unlink()
    with pytest.raises(ValueError, match="no readable videos to calibrate on"):
        calibration_clips(tmp_path, count=10, num_frames=4, image_size=16)
