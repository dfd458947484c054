"""helpers.runtime: an exported file's sidecar checked against its schema and the interpreter's shapes before any
video is decoded, and the CLI classifying with a .tflite file where TensorFlow, Keras and pandas cannot be imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

from helpers.deploy import export_model
from helpers.inference import predict_single_action
from helpers.paper_models import build_lrcn
from helpers.runtime import METADATA_SCHEMA, TFLitePredictor, metadata_path
from tests.conftest import numbered_frames, write_video

ROOT = Path(__file__).resolve().parent.parent
CLASS_NAMES = ["Jumping", "SitDown", "StandUp"]
NUM_FRAMES = 8
#: A sitecustomize that makes TensorFlow, Keras and pandas unimportable (a small device has none of them).
BLOCKER = '''import sys
class _NoTensorFlow:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "keras", "pandas"):
            raise ImportError(f"{name} is blocked: a small device has no TensorFlow")
sys.meta_path.insert(0, _NoTensorFlow())
'''


@pytest.fixture(scope="module")
def tflite(tmp_path_factory) -> Path:
    keras.utils.set_random_seed(0)
    model = build_lrcn(num_classes=3, num_frames=NUM_FRAMES, image_size=64, class_names=CLASS_NAMES)
    return export_model(model, tmp_path_factory.mktemp("exported") / "lrcn.tflite")


def run_without_tensorflow(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``python -m helpers ARGS`` where importing tensorflow, keras or pandas raises ImportError."""
    blocker = cwd / "no_tensorflow"
    blocker.mkdir(exist_ok=True)
    (blocker / "sitecustomize.py").write_text(BLOCKER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocker), str(ROOT)]), "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "helpers", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


def test_the_blocker_blocks(tmp_path):
    (tmp_path / "no_tensorflow").mkdir()
    (tmp_path / "no_tensorflow" / "sitecustomize.py").write_text(BLOCKER)
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "no_tensorflow")}
    proc = subprocess.run([sys.executable, "-c", "import keras"], env=env, capture_output=True, text=True)
    assert proc.returncode == 1 and "keras is blocked" in proc.stderr


def test_classify_with_a_tflite_file_needs_no_tensorflow(tflite, tmp_path):
    video = write_video(tmp_path / "clip.avi", numbered_frames(40, size=64))
    out = tmp_path / "annotated.mp4"
    proc = run_without_tensorflow("classify", str(video), "--model", str(tflite), "--json", "--output", str(out),
                                  "--window", "0.8", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    want = predict_single_action(TFLitePredictor(tflite), video)
    assert result["label"] == want.label and result["probabilities"] == pytest.approx(want.probabilities, abs=1e-6)
    assert result["annotated"]["windows"] >= 1 and out.is_file()
    # a .keras model in the same environment fails in one line that names the missing package
    zipfile.ZipFile(tmp_path / "model.keras", "w").close()  # a zip, as .keras files are; importing keras fails first
    proc = run_without_tensorflow("classify", str(video), "--model", str(tmp_path / "model.keras"), cwd=tmp_path)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1 and "keras is blocked" in lines[0], proc.stderr


def tampered(tflite: Path, folder: Path, **changes) -> Path:
    """A copy of the export whose sidecar has ``changes`` (a value ``...`` removes the key)."""
    copy = folder / f"tampered_{len(list(folder.glob('*.tflite')))}.tflite"
    copy.write_bytes(tflite.read_bytes())
    meta = json.loads(metadata_path(tflite).read_text())
    for key, value in changes.items():
        if value is ...:
            del meta[key]
        else:
            meta[key] = value
    metadata_path(copy).write_text(json.dumps(meta))
    return copy


@pytest.mark.parametrize(("changes", "needle"), [
    *[({key: ...}, f"metadata key {key!r} is missing") for key in METADATA_SCHEMA],
    ({"sha256": ...}, "describes another file"),
    ({"class_names": "abcd"}, "'class_names' must be a list"),
    ({"class_names": ["a", 1, "c"]}, "'class_names' must be a non-empty list of strings"),
    ({"class_names": ["a", "b"]}, "'class_names' names 2, but the model file's output shape says 3"),
    ({"num_frames": "8"}, "'num_frames' must be a int"),
    ({"num_frames": True}, "'num_frames' must be a int"),
    ({"num_frames": 0}, "'num_frames' must be >= 1"),
    ({"num_frames": 16}, "'num_frames' is 16, but the model file's input shape says 8"),
    ({"image_size": 8000}, "'image_size' is 8000, but the model file's input shape says 64"),
    ({"image_size": 64.0}, "'image_size' must be a int"),
    ({"inputs": ["frames"]}, "'inputs' says ['frames'], the file takes ['clip']"),
    ({"inputs": []}, "'inputs' must be a non-empty list of strings"),
    ({"format": None}, "'format' must be a str"),
    ({"card": ["a card"]}, "'card' must be a dict"),  # optional (helpers.cards), but a dict when there
    ({"card": {"trained_on": 3}}, "'card' must have a string or null 'trained_on'"),
])
def test_a_tampered_sidecar_is_one_line_naming_the_key(tflite, tmp_path, changes, needle):
    with pytest.raises(ValueError) as caught:
        TFLitePredictor(tampered(tflite, tmp_path, **changes))
    message = str(caught.value)
    assert needle in message and "\n" not in message, message


def test_the_cli_checks_the_sidecar_before_decoding_the_video(tflite, tmp_path):
    """image_size 8000 once decoded the whole video at that size before LiteRT failed: now one line, at once."""
    video = write_video(tmp_path / "clip.avi", numbered_frames(40, size=64))
    bad = tampered(tflite, tmp_path, image_size=8000)
    started = time.perf_counter()
    proc = run_without_tensorflow("classify", str(video), "--model", str(bad), cwd=tmp_path)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1 and "metadata key 'image_size' is 8000" in lines[0], proc.stderr
    assert time.perf_counter() - started < 30
    with pytest.raises(ValueError, match="JSON object"):
        metadata_path(bad).write_text("[1, 2]")
        TFLitePredictor(bad)
    assert np.isfinite(TFLitePredictor(tflite).predict_clips(np.zeros((1, NUM_FRAMES, 64, 64, 3), np.uint8))).all()
