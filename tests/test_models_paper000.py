"""Paper 000's CNN, RNN and hybrid builders, the hybrid's alpha, and the Tables I-III helpers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

keras = pytest.importorskip("keras")

from helpers.data import create_dataset, split_by_group  # noqa: E402
from helpers.evaluation import evaluate  # noqa: E402
from helpers.layers import ClipRescaling, TemporalCentering, WeightedConcat  # noqa: E402
from helpers.models import load_model, model_spec, save_model  # noqa: E402
from helpers.paper_models import build_cnn, build_hybrid, build_rnn  # noqa: E402
from helpers.papers import PAPER000_METRICS, PAPER000_TABLES, paper000_metrics  # noqa: E402
from helpers.training import train  # noqa: E402
from scripts.notebook_source import definitions  # noqa: E402

# Tables I-III's layout is defined in notebook 03, the one place that uses it
NB = definitions(Path(__file__).resolve().parents[1] / "notebooks/03_cnn_rnn_hybrid.ipynb",
                 names=("paper000_table", "paper000_layout"))
paper000_table, paper000_layout = NB.paper000_table, NB.paper000_layout

NUM_CLASSES = 3
NUM_FRAMES = 6
IMAGE_SIZE = 32
CLASS_NAMES = ["Jumping", "SitDown", "StandUp"]
BUILDERS = {"cnn": build_cnn, "rnn": build_rnn, "hybrid": build_hybrid}


def small(builder, **kwargs) -> keras.Model:
    """A builder's model at test size (RNN frames 8x8, CNN frames 16x16)."""
    sizes = {build_cnn: {"frame_size": 16}, build_rnn: {"frame_size": 8},
             build_hybrid: {"cnn_frame_size": 16, "rnn_frame_size": 8}}[builder]
    return builder(num_classes=NUM_CLASSES, num_frames=NUM_FRAMES, image_size=IMAGE_SIZE, class_names=CLASS_NAMES,
                   **sizes, **kwargs)


def clips(n: int = 4, *, seed: int = 0) -> np.ndarray:
    """Random uint8 clips ``(n, NUM_FRAMES, IMAGE_SIZE, IMAGE_SIZE, 3)``."""
    return np.random.default_rng(seed).integers(0, 256, size=(n, NUM_FRAMES, IMAGE_SIZE, IMAGE_SIZE, 3),
                                                dtype=np.uint8)


def predict(model: keras.Model, x: np.ndarray) -> np.ndarray:
    return keras.ops.convert_to_numpy(model(x, training=False))


def fused(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """The hybrid's merged features ``(batch, cnn_units + rnn_units)`` (before the softmax can saturate)."""
    return keras.ops.convert_to_numpy(keras.Model(model.inputs, model.get_layer("fusion").output)(x))


def randomize(model: keras.Model, prefix: str, *, seed: int = 1) -> int:
    """Overwrite every weight of the layers named ``prefix*`` with random values; returns how many."""
    rng = np.random.default_rng(seed)
    count = 0
    for layer in model.layers:
        if layer.name.startswith(prefix):
            for weight in layer.weights:
                weight.assign(rng.normal(0.0, 1.0, size=weight.shape).astype("float32"))
                count += 1
    return count


@pytest.mark.parametrize("name", BUILDERS)
def test_builder_shape_and_input_contract(name):
    model = small(BUILDERS[name])
    assert model.name == name
    (inputs,) = model.inputs
    assert inputs.dtype == "uint8"
    assert tuple(inputs.shape) == (None, NUM_FRAMES, IMAGE_SIZE, IMAGE_SIZE, 3)
    assert model.output_shape == (None, NUM_CLASSES)
    rescaling = model.get_layer("rescaling")
    assert isinstance(rescaling, ClipRescaling) and model.layers[1] is rescaling
    spec = model_spec(model)
    assert spec.class_names == tuple(CLASS_NAMES) and spec.num_frames == NUM_FRAMES
    assert spec.image_size == IMAGE_SIZE

    x = clips()
    scaled = keras.ops.convert_to_numpy(keras.Model(model.inputs, rescaling.output)(x))
    np.testing.assert_allclose(scaled, x / 255.0, rtol=1e-6)  # rescaling happens inside the model
    probabilities = predict(model, x)
    assert probabilities.shape == (len(x), NUM_CLASSES)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_cnn_is_order_blind_and_rnn_is_not():
    x = clips()
    reversed_x = x[:, ::-1]
    cnn, rnn = small(build_cnn), small(build_rnn)
    np.testing.assert_allclose(predict(cnn, x), predict(cnn, reversed_x), atol=1e-6)
    assert np.abs(predict(rnn, x) - predict(rnn, reversed_x)).max() > 1e-4


@pytest.mark.parametrize(("alpha", "ignored", "used"), [(1.0, "rnn_", "cnn_"), (0.0, "cnn_", "rnn_")])
def test_hybrid_alpha_endpoints_ignore_one_branch(alpha, ignored, used):
    model = small(build_hybrid, alpha=alpha)
    x = clips()
    before = predict(model, x)
    assert randomize(model, ignored) > 0
    np.testing.assert_array_equal(predict(model, x), before)  # the ignored branch contributes exactly zero
    features = fused(model, x)
    assert randomize(model, used) > 0
    assert np.abs(fused(model, x) - features).max() > 1e-3  # the other branch does drive the merged features


def test_hybrid_mid_alpha_uses_both_branches():
    model = small(build_hybrid, alpha=0.7)
    x = clips()
    cnn_units = model.get_layer("cnn_time_average").output.shape[-1]
    for prefix, part in (("cnn_", slice(None, cnn_units)), ("rnn_", slice(cnn_units, None))):
        before = fused(model, x)
        randomize(model, prefix)
        changed = np.abs(fused(model, x) - before).max(axis=0) > 1e-3
        own = np.zeros_like(changed)
        own[part] = True
        assert changed[own].any() and not changed[~own].any(), prefix  # each branch moves only its own features


def test_weighted_concat_weights_and_validates():
    first, second = np.ones((2, 3), "float32"), np.full((2, 2), 2.0, "float32")
    out = keras.ops.convert_to_numpy(WeightedConcat(alpha=0.7)([first, second]))
    np.testing.assert_allclose(out, [[0.7, 0.7, 0.7, 0.6, 0.6]] * 2, rtol=1e-6)
    assert WeightedConcat(alpha=0.3).get_config()["alpha"] == 0.3
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="alpha"):
            build_hybrid(num_classes=2, alpha=bad)


def test_temporal_centering_removes_the_mean_frame():
    x = np.random.default_rng(0).normal(size=(2, 5, 4, 4, 3)).astype("float32")
    centered = keras.ops.convert_to_numpy(TemporalCentering()(x))
    np.testing.assert_allclose(centered, x - x.mean(axis=1, keepdims=True), atol=1e-6)
    motion = keras.ops.convert_to_numpy(TemporalCentering(absolute=True)(x))
    np.testing.assert_allclose(motion, np.abs(centered), atol=1e-6)
    still = np.repeat(x[:, :1], 5, axis=1)  # a clip where nothing moves
    np.testing.assert_allclose(keras.ops.convert_to_numpy(TemporalCentering()(still)), 0.0, atol=1e-6)


@pytest.mark.parametrize("frames", ["raw", "centered", "motion"])
def test_frame_modes_build_and_keep_the_contract(frames):
    model = small(build_rnn, frames=frames)
    assert model.output_shape == (None, NUM_CLASSES)
    assert (f"rnn_{frames}" in [layer.name for layer in model.layers]) == (frames != "raw")
    with pytest.raises(ValueError, match="frames"):
        small(build_cnn, frames="optical_flow")


@pytest.mark.parametrize("name", BUILDERS)
def test_models_save_and_load_with_class_names(name, tmp_path):
    kwargs = {"alpha": 0.3} if name == "hybrid" else {}
    model = small(BUILDERS[name], **kwargs)
    x = clips(2)
    path = save_model(model, tmp_path / f"{name}.keras")
    loaded = load_model(path, compile=False)  # safe mode: no Lambda layers anywhere
    assert model_spec(loaded).class_names == tuple(CLASS_NAMES)
    np.testing.assert_allclose(predict(loaded, x), predict(model, x), atol=1e-6)
    if name == "hybrid":
        assert loaded.get_layer("fusion").alpha == pytest.approx(0.3)


def fake_metrics(value: float) -> dict:
    return {m: value for m in PAPER000_METRICS} | {"compile_metrics": 0.0}


def test_paper000_table_has_every_metric_for_both_sets():
    table = paper000_table({m: {"training": fake_metrics(0.5), "validation": fake_metrics(0.25)}
                            for m in ("cnn", "rnn", "hybrid")})
    assert list(table.columns) == ["model", "set", "loss", "accuracy", "mse", "mae", "auc"]
    assert len(table) == 6 and not table.isna().any().any()
    assert set(map(tuple, table[["model", "set"]].values)) == {
        (m, s) for m in ("cnn", "rnn", "hybrid") for s in ("training", "validation")}
    with pytest.raises(ValueError, match="auc"):
        paper000_table({"cnn": {"training": fake_metrics(0.5), "validation": {"loss": 1.0, "accuracy": 0.5,
                                                                                "mse": 0.1, "mae": 0.1}}})
    with pytest.raises(ValueError, match="validation"):
        paper000_table({"cnn": {"training": fake_metrics(0.5)}})


def test_paper000_layout_puts_the_papers_numbers_beside_ours():
    table = paper000_table({"cnn": {"training": fake_metrics(0.5), "validation": fake_metrics(0.25)}})
    layout = paper000_layout(table, model="cnn")
    assert list(layout.index) == ["Loss", "Accuracy", "Mean Squared Error", "Mean Absolute Error", "AUC"]
    assert list(layout.columns) == ["training (paper)", "training (ours)", "validation (paper)", "validation (ours)"]
    assert layout.loc["Loss", "validation (paper)"] == PAPER000_TABLES["cnn"]["validation"]["loss"] == 25.1349
    assert (layout["validation (ours)"] == 0.25).all()


def test_paper000_metrics_reach_the_evaluation(tiny_dataset):
    """Compiled with paper000_metrics, a trained model's evaluation fills every column of the table."""
    features, labels, paths = create_dataset(tiny_dataset, num_frames=NUM_FRAMES, image_size=IMAGE_SIZE,
                                             progress=False, num_workers=1)
    train_idx, test_idx = split_by_group(paths, test_size=0.34)
    first, second = paper000_metrics(), paper000_metrics()
    assert all(a is not b for a, b in zip(first[1:], second[1:], strict=True))  # fresh metric objects for every model
    model = small(build_cnn)
    train(model, (features[train_idx], labels[train_idx]), epochs=1, batch_size=4, metrics=first, verbose=0)
    metrics = evaluate(model, (features[test_idx], labels[test_idx]), class_names=CLASS_NAMES).metrics
    table = paper000_table({"cnn": {"training": metrics, "validation": metrics}})
    assert isinstance(table, pd.DataFrame) and len(table) == 2
    assert np.isfinite(table[list(PAPER000_METRICS)].to_numpy()).all()
    bounded = table[["accuracy", "mse", "mae", "auc"]].to_numpy()
    assert ((bounded >= 0) & (bounded <= 1)).all()
