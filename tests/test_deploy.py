"""helpers.deploy: SavedModel and TFLite (float32/float16/dynamic/int8) export, metadata, LiteRT predictor, CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from har_app.cli import build_parser
from helpers.deploy import FORMATS, QUANTIZATIONS, TFLitePredictor, export_model, metadata_path, read_metadata
from helpers.inference import predict_on_video, predict_single_action
from helpers.models import save_model
from helpers.paper_models import build_lrcn
from tests.conftest import numbered_frames, write_video

CLASS_NAMES = ["Jumping", "SitDown", "StandUp"]
NUM_FRAMES = 8
RNG = np.random.default_rng(0)
CLIPS = RNG.integers(0, 256, (6, NUM_FRAMES, 64, 64, 3), dtype=np.uint8)  # [:4] "training", [4:] a fixed test clip
# largest |probability - float32 Keras| allowed on random weights (int8: 8-bit activations and outputs)
TOLERANCE = {"none": 1e-5, "float16": 1e-3, "dynamic": 2e-2, "int8": 5e-2}


@pytest.fixture(scope="module")
def model() -> keras.Model:
    keras.utils.set_random_seed(0)
    return build_lrcn(num_classes=3, num_frames=NUM_FRAMES, image_size=64, class_names=CLASS_NAMES)


@pytest.fixture(scope="module")
def exported(model, tmp_path_factory) -> dict[str, Path]:
    """Every TFLite variant of the tiny LRCN; int8 calibrated on the "training" clips only."""
    folder = tmp_path_factory.mktemp("exported")
    return {q: export_model(model, folder / f"lrcn_{q}.tflite", quantize=q,
                            representative_clips=CLIPS[:4] if q == "int8" else None) for q in QUANTIZATIONS}


def ops(path: Path) -> set[str]:
    from ai_edge_litert.interpreter import Interpreter

    return {op["op_name"] for op in Interpreter(model_path=str(path))._get_ops_details()}


@pytest.mark.parametrize("quantize", QUANTIZATIONS)
def test_each_tflite_variant_reloads_with_its_class_names_and_close_outputs(quantize, model, exported):
    predictor = TFLitePredictor(exported[quantize])
    assert predictor.spec.class_names == tuple(CLASS_NAMES)
    assert (predictor.spec.num_frames, predictor.spec.image_size) == (NUM_FRAMES, 64)
    meta = read_metadata(exported[quantize])
    assert (meta["format"], meta["quantize"], meta["inputs"]) == ("tflite", quantize, ["clip"])
    test = CLIPS[4:]
    got, want = predictor.predict_clips(test), np.asarray(model(test, training=False))
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=TOLERANCE[quantize])
    # the interpreter's LSTM state is reset between clips: the same clip twice gives the same output
    np.testing.assert_array_equal(predictor.predict_clips(test[:1]), got[:1])


def test_the_lstm_stays_one_fused_op_and_quantized_files_are_smaller(exported):
    for path in exported.values():
        assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in ops(path) and "WHILE" not in ops(path), path.name
    size = {q: p.stat().st_size for q, p in exported.items()}
    assert size["float16"] < 0.6 * size["none"] and size["int8"] < 0.35 * size["none"]


def test_saved_model_reloads_with_tensorflow_alone(model, tmp_path):
    path = export_model(model, tmp_path / "lrcn_saved_model", format="saved_model")
    loaded = tf.saved_model.load(str(path))
    np.testing.assert_allclose(loaded.serve(CLIPS).numpy(), np.asarray(model(CLIPS, training=False)), atol=1e-6)
    assert json.loads(metadata_path(path).read_text())["class_names"] == CLASS_NAMES


def test_export_refuses_what_it_cannot_do(model, tmp_path):
    with pytest.raises(ValueError, match="representative_clips"):
        export_model(model, tmp_path / "x.tflite", quantize="int8")
    with pytest.raises(ValueError, match="tflite only"):
        export_model(model, tmp_path / "x", format="saved_model", quantize="dynamic")
    assert not (tmp_path / "x.tflite").exists()


def test_metadata_is_required_and_must_describe_the_file(exported, tmp_path):
    bare = tmp_path / "bare.tflite"
    bare.write_bytes(exported["none"].read_bytes())
    with pytest.raises(ValueError, match=r"bare\.tflite: no metadata bare\.tflite\.json"):
        TFLitePredictor(bare)
    metadata_path(bare).write_text(metadata_path(exported["int8"]).read_text())
    with pytest.raises(ValueError, match="describes another file"):
        TFLitePredictor(bare)


def test_inference_takes_a_tflite_predictor_like_a_keras_model(model, exported, tmp_path):
    video = write_video(tmp_path / "clip.avi", numbered_frames(40, size=64))
    predictor = TFLitePredictor(exported["none"])
    got, want = predict_single_action(predictor, video), predict_single_action(model, video)
    assert got.label == want.label and got.confidence == pytest.approx(want.confidence, abs=1e-5)
    stream = predict_on_video(predictor, video, tmp_path / "annotated.mp4", window=0.8)
    reference = predict_on_video(model, video, window=0.8)
    assert not stream.fast_path and (tmp_path / "annotated.mp4").is_file()
    np.testing.assert_allclose(stream.probabilities, reference.probabilities, atol=1e-5)


def test_cli_choices_are_the_library_s():
    export = build_parser()._subparsers._group_actions[0].choices["export"]
    choices = {action.dest: tuple(action.choices) for action in export._actions if action.choices}
    assert choices == {"format": FORMATS, "quantize": QUANTIZATIONS}


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "helpers", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def test_cli_exports_int8_and_classifies_with_the_tflite_file(model, tmp_path):
    keras_path = save_model(model, tmp_path / "tiny.keras")
    training = tmp_path / "training"
    for i in range(3):
        (training / CLASS_NAMES[i]).mkdir(parents=True)
        write_video(training / CLASS_NAMES[i] / f"v{i}.avi", numbered_frames(30 + 5 * i, size=64))
    tflite = tmp_path / "tiny_int8.tflite"
    proc = run_cli("export", str(keras_path), "--format", "tflite", "--quantize", "int8", "--output", str(tflite),
                   "--calibration", str(training), "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["output"] == str(tflite) and metadata_path(tflite).is_file()
    assert json.loads(proc.stdout)["per_channel"] is False and read_metadata(tflite)["per_channel"] is False
    video = write_video(tmp_path / "clip.avi", numbered_frames(40, size=64))
    out = tmp_path / "annotated.mp4"
    proc = run_cli("classify", str(video), "--model", str(tflite), "--json", "--output", str(out), "--window", "0.8",
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert set(result["probabilities"]) == set(CLASS_NAMES) and out.is_file()
    assert result["annotated"]["windows"] >= 1


def test_cli_one_line_errors_for_a_tflite_without_metadata_and_int8_without_calibration(exported, model, tmp_path):
    bare = tmp_path / "bare.tflite"
    bare.write_bytes(exported["none"].read_bytes())
    video = write_video(tmp_path / "clip.avi", numbered_frames(20, size=64))
    keras_path = save_model(model, tmp_path / "tiny.keras")
    for args, needle in ((("classify", str(video), "--model", str(bare)), "bare.tflite: no metadata"),
                         (("export", str(keras_path), "--quantize", "int8", "--output", str(tmp_path / "q.tflite")),
                          "--calibration")):
        proc = run_cli(*args, cwd=tmp_path)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 1 and len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], \
            proc.stderr


def test_int8_is_per_tensor_unless_asked_and_inner_tensor_names_are_left_out(model, exported, tmp_path):
    from tensorflow.lite.tools import flatbuffer_utils

    per_channel = export_model(model, tmp_path / "per_channel.tflite", quantize="int8",
                               representative_clips=CLIPS[:4], per_channel=True)

    def weight_scales(path: Path) -> list[int]:  # scales of each int8 weight tensor of a convolution
        graph = flatbuffer_utils.read_model(str(path))
        kernels = {op.inputs[1] for op in graph.subgraphs[0].operators
                   if graph.operatorCodes[op.opcodeIndex].builtinCode == 3}  # CONV_2D
        return [len(graph.subgraphs[0].tensors[i].quantization.scale) for i in sorted(kernels)]

    assert weight_scales(exported["int8"]) == [1, 1, 1, 1]  # a TF whose switch does nothing fails here
    assert weight_scales(per_channel) == [16, 32, 64, 64]  # build_lrcn's filters
    assert per_channel.stat().st_size > exported["int8"].stat().st_size
    assert (read_metadata(exported["int8"])["per_channel"], read_metadata(per_channel)["per_channel"]) == (False, True)
    graph = flatbuffer_utils.read_model(str(exported["none"]))
    named = [t.name for t in graph.subgraphs[0].tensors if t.name]
    assert len(named) == 2 and named[0] == b"serving_default_clip:0"  # the signature's input and output only
    with pytest.raises(ValueError, match="per_channel applies to int8 only"):
        export_model(model, tmp_path / "x.tflite", quantize="dynamic", per_channel=True)


def test_layers_tflite_lacks_are_served_by_equivalents(tmp_path):
    """3D convolutions and a 3D max pool (notebook 05's 3D CNN), an area resize in a TimeDistributed and inside
    a nested frame encoder (its transferred model): the float32 file computes what Keras does, builtin 2D ops."""
    from helpers.layers import FoldedTimeDistributed
    from helpers.models import clip_input

    keras.utils.set_random_seed(1)
    frame = keras.Input((32, 32, 3))
    encoder = keras.Model(frame, keras.layers.Conv2D(4, 3, padding="same")(
        keras.layers.Resizing(16, 16, interpolation="area")(frame)), name="encoder")
    inputs, x = clip_input(num_classes=3, num_frames=4, image_size=32, class_names=CLASS_NAMES)
    x3d = keras.layers.Conv3D(4, (3, 3, 3), padding="same", use_bias=False)(x)
    x3d = keras.layers.Conv3D(5, (2, 3, 1), padding="valid", activation="relu")(x3d)  # (3, 30, 32, 5)
    pooled = keras.layers.MaxPooling3D((2, 2, 2), padding="same")(x3d)  # -> (2, 15, 16, 5)
    shrunk = FoldedTimeDistributed(keras.layers.Resizing(4, 4, interpolation="area"))(x)
    encoded = keras.layers.Flatten()(FoldedTimeDistributed(encoder)(x))
    features = keras.layers.Concatenate()([keras.layers.Flatten()(t) for t in (pooled, shrunk, encoded)])
    toy = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(features), name="toy")
    path = export_model(toy, tmp_path / "toy.tflite")
    clips = RNG.integers(0, 256, (2, 4, 32, 32, 3), dtype=np.uint8)
    np.testing.assert_allclose(TFLitePredictor(path).predict_clips(clips), np.asarray(toy(clips, training=False)),
                               atol=1e-5)
    assert {"CONV_2D", "MAX_POOL_2D", "AVERAGE_POOL_2D"} <= ops(path) and "CONV_3D" not in ops(path)
    assert not any("CUSTOM" in o or "Flex" in o for o in ops(path))
