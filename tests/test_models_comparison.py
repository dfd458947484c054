"""Issue 8's model families: the 3D CNN, the two-stream network, transfer learning, and the
multi-input path through make_dataset / train / evaluate / run_experiment.

The families are defined in notebooks 05 (3D CNN, two-stream) and 10 (transfer), marked ``#@save``: tested here
from helpers.paper_models, which ``make export`` generates from those definitions."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from helpers import paper_models as zoo  # noqa: E402  (the families as notebooks 05 and 10 define them)
from helpers.config import set_seed  # noqa: E402
from helpers.evaluation import evaluate  # noqa: E402
from helpers.experiment import Split, run_experiment  # noqa: E402
from helpers.flow import create_flow_dataset  # noqa: E402
from helpers.layers import WeightedAverage  # noqa: E402
from helpers.models import load_model, model_spec, save_model  # noqa: E402
from helpers.training import make_dataset, take, train  # noqa: E402
from tests.test_flow import moving_square  # noqa: E402

ENCODER_LAYER = zoo.ENCODER_LAYER

NUM_CLASSES = 3
NUM_FRAMES = 6
IMAGE_SIZE = 32
CLASS_NAMES = ["Jumping", "SitDown", "StandUp"]


def tiny_encoder(**kwargs) -> keras.Model:
    return zoo.build_frame_encoder(image_size=IMAGE_SIZE, frame_size=16, filters=(4, 8), units=8, **kwargs)


BUILDERS = {
    "c3d": lambda: zoo.build_c3d(num_classes=NUM_CLASSES, num_frames=NUM_FRAMES, image_size=IMAGE_SIZE,
                                class_names=CLASS_NAMES, filters=(4, 8, 8)),
    "two_stream": lambda: zoo.build_two_stream(num_classes=NUM_CLASSES, num_frames=NUM_FRAMES, image_size=IMAGE_SIZE,
                                              class_names=CLASS_NAMES, alpha=0.3, frame_size=16, flow_size=16,
                                              flow_filters=(8, 8)),
    "transfer": lambda: zoo.build_transfer(encoder=tiny_encoder(), num_classes=NUM_CLASSES, num_frames=NUM_FRAMES,
                                          image_size=IMAGE_SIZE, class_names=CLASS_NAMES, units=8),
}


def clips(n: int = 2, *, seed: int = 0) -> np.ndarray:
    """Random uint8 clips ``(n, NUM_FRAMES, IMAGE_SIZE, IMAGE_SIZE, 3)``."""
    return np.random.default_rng(seed).integers(0, 256, (n, NUM_FRAMES, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)


def inputs_for(model: keras.Model, x: np.ndarray):
    """The clip array, or the two-stream dict with random float16 flow."""
    if model.name != "two_stream":
        return x
    flow = np.random.default_rng(1).normal(0, 2, (len(x), NUM_FRAMES - 1, IMAGE_SIZE, IMAGE_SIZE, 2))
    return {"clip": x, "flow": flow.astype(np.float16)}


def predict(model: keras.Model, x) -> np.ndarray:
    return keras.ops.convert_to_numpy(model(x, training=False))


def weights_of(layer: keras.layers.Layer) -> list[np.ndarray]:
    return [np.array(w) for w in layer.get_weights()]


def same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


# --- shapes, parameter counts, save/load ---

def test_parameter_counts_at_the_notebook_size():
    """8 classes, 20 frames, 64 px: the sizes of notebook 05's table (pinned so a change is deliberate)."""
    counts = {
        "c3d": zoo.build_c3d(num_classes=8).count_params(),
        "two_stream": zoo.build_two_stream(num_classes=8).count_params(),
        "frame_encoder": zoo.build_frame_encoder().count_params(),
        "transfer": zoo.build_transfer(encoder=zoo.build_frame_encoder(), num_classes=8).count_params(),
    }
    print(counts)
    assert counts == {"c3d": 74_224, "two_stream": 96_144, "frame_encoder": 89_184, "transfer": 101_864}


def test_c3d_shapes_keep_time_in_the_first_pool():
    model = BUILDERS["c3d"]()
    shapes = {layer.name: tuple(layer.output.shape) for layer in model.layers}
    assert shapes["conv1"] == (None, 6, 32, 32, 4)
    assert shapes["pool1"] == (None, 6, 16, 16, 4)  # C3D's pool1: (1, 2, 2)
    assert shapes["pool2"] == (None, 3, 8, 8, 8)
    assert shapes["conv3"] == (None, 3, 8, 8, 8)
    assert model.output_shape == (None, NUM_CLASSES)
    x = clips()
    assert np.abs(predict(model, x) - predict(model, x[:, ::-1])).max() > 1e-6  # 3D kernels see frame order
    variant = zoo.build_c3d(num_classes=2, num_frames=4, image_size=16, filters=(4, 4), batch_norm=False,
                           pooling="max", frames="centered")
    names = {layer.name for layer in variant.layers}
    assert "c3d_centered" in names and not any(name.startswith("bn") for name in names)
    assert isinstance(variant.get_layer("global_pool"), keras.layers.GlobalMaxPooling3D)
    with pytest.raises(ValueError, match="pooling"):
        zoo.build_c3d(num_classes=2, pooling="sum")


def test_two_stream_inputs_and_late_fusion():
    model = BUILDERS["two_stream"]()
    assert set(model.input) == {"clip", "flow"}
    assert model.input["clip"].dtype == "uint8"
    assert tuple(model.input["clip"].shape) == (None, NUM_FRAMES, IMAGE_SIZE, IMAGE_SIZE, 3)
    assert tuple(model.input["flow"].shape) == (None, NUM_FRAMES - 1, IMAGE_SIZE, IMAGE_SIZE, 2)
    assert model.get_layer("motion_stack").output.shape[-1] == 2 * (NUM_FRAMES - 1)  # flow stacked on channels
    assert model_spec(model).class_names == tuple(CLASS_NAMES)
    inputs = inputs_for(model, clips(3))
    streams = keras.Model(model.inputs, [model.get_layer("appearance_scores").output,
                                         model.get_layer("motion_scores").output, model.output])
    appearance, motion, fused = (keras.ops.convert_to_numpy(t) for t in streams(inputs, training=False))
    np.testing.assert_allclose(fused, 0.3 * appearance + 0.7 * motion, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(fused.sum(axis=1), 1.0, rtol=1e-5)
    reversed_flow = {"clip": inputs["clip"], "flow": -inputs["flow"][:, ::-1]}  # the clip played backwards
    assert np.abs(predict(model, reversed_flow) - fused).max() > 1e-6


def test_weighted_average_validates_alpha():
    out = WeightedAverage(alpha=0.25)([np.ones((1, 2), "float32"), np.zeros((1, 2), "float32")])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out), [[0.25, 0.25]])
    for bad in (-0.5, 2.0):
        with pytest.raises(ValueError, match="alpha"):
            zoo.build_two_stream(num_classes=2, alpha=bad)


@pytest.mark.parametrize("name", BUILDERS)
def test_models_save_and_load_with_class_names(name, tmp_path):
    model = BUILDERS[name]()
    x = inputs_for(model, clips())
    path = save_model(model, tmp_path / f"{name}.keras")
    loaded = load_model(path, compile=False)  # safe mode: registered layers only
    assert loaded.name == name and model_spec(loaded).class_names == tuple(CLASS_NAMES)
    np.testing.assert_allclose(predict(loaded, x), predict(model, x), atol=1e-6)
    if name == "two_stream":
        assert loaded.get_layer("fusion").alpha == pytest.approx(0.3)
    if name == "transfer":
        assert not loaded.get_layer(ENCODER_LAYER).trainable  # frozen state survives saving


# --- transfer learning ---

@pytest.mark.filterwarnings("ignore:Skipping nested container")  # Keras' note on the mismatched file
def test_small_frame_encoder_and_weights_files(tmp_path):
    small = tiny_encoder()
    assert small.output_shape == (None, 8) and small.input_shape == (None, IMAGE_SIZE, IMAGE_SIZE, 3)
    path = tmp_path / "encoder.weights.h5"
    small.save_weights(path)
    assert same(weights_of(tiny_encoder(weights=path)), weights_of(small))
    with pytest.raises(ValueError, match="cannot load"):
        zoo.build_frame_encoder(image_size=IMAGE_SIZE, frame_size=16, filters=(4,), units=8, weights=path)
    for architecture in ("small", "mobilenet_v2"):
        with pytest.raises(FileNotFoundError, match="missing_imagenet.h5"):
            zoo.build_frame_encoder(image_size=IMAGE_SIZE, architecture=architecture,
                                   weights=tmp_path / "missing_imagenet.h5")
    with pytest.raises(ValueError, match="architecture"):
        zoo.build_frame_encoder(architecture="resnet")
    with pytest.raises(ValueError, match="imagenet"):
        zoo.build_frame_encoder(weights="imagenet")


def test_mobilenet_encoder_loads_a_weights_file_and_fine_tunes_with_batch_norm_frozen(tmp_path):
    mobilenet = zoo.build_frame_encoder(image_size=IMAGE_SIZE, architecture="mobilenet_v2", weights=None)  # no download
    assert mobilenet.output_shape == (None, 1280)
    print({"mobilenet_v2 (alpha 0.35)": mobilenet.count_params()})
    backbone_path = tmp_path / "backbone.weights.h5"
    mobilenet.layers[-1].save_weights(backbone_path)  # stands in for a local ImageNet file
    reloaded = zoo.build_frame_encoder(image_size=IMAGE_SIZE, architecture="mobilenet_v2", weights=backbone_path)
    assert same(weights_of(reloaded), weights_of(mobilenet))

    model = zoo.build_transfer(encoder=reloaded, num_classes=2, num_frames=2, image_size=IMAGE_SIZE)
    wrapper = model.get_layer(ENCODER_LAYER)
    assert not wrapper.trainable and len(model.trainable_weights) == 5  # LSTM (3) + classifier (2)
    zoo.set_encoder_trainable(model, True)
    nested = [layer for layer in wrapper.layer.layers[-1].layers if layer.weights]
    assert all(layer.trainable != isinstance(layer, keras.layers.BatchNormalization) for layer in nested)
    zoo.set_encoder_trainable(model, False)
    assert not wrapper.trainable and len(model.trainable_weights) == 5


def test_clip_frames_labels_every_frame_with_its_clip():
    x = clips(3)
    frames, labels = zoo.clip_frames(x, np.array([2, 0, 1]), frames_per_clip=2)
    assert frames.shape == (6, IMAGE_SIZE, IMAGE_SIZE, 3) and frames.dtype == np.uint8
    np.testing.assert_array_equal(labels, [2, 2, 0, 0, 1, 1])
    np.testing.assert_array_equal(frames[2], x[1, 1])  # frames 1 and 4 of 6: the middles of two halves
    np.testing.assert_array_equal(frames[3], x[1, 4])


def toy_clips(n: int = 16, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Class 0 dark clips, class 1 bright: learnable in a few steps, by the frames alone."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    base = np.where(labels[:, None, None, None, None] == 1, 190, 50)
    x = np.clip(base + rng.integers(-40, 40, (n, NUM_FRAMES, IMAGE_SIZE, IMAGE_SIZE, 3)), 0, 255)
    return x.astype(np.uint8), labels


def test_transfer_frozen_then_fine_tuned():
    x, y = toy_clips()
    set_seed(0)
    encoder = tiny_encoder()
    before_pretraining = weights_of(encoder)
    zoo.pretrain_frame_encoder(encoder, (x, y), num_classes=2, epochs=1, batch_size=8, frames_per_clip=2, verbose=0)
    assert not same(weights_of(encoder), before_pretraining)  # pretraining trains the encoder in place

    pretrained = weights_of(encoder)
    model = zoo.build_transfer(encoder=encoder, num_classes=2, num_frames=NUM_FRAMES, image_size=IMAGE_SIZE, units=8)
    wrapper = model.get_layer(ENCODER_LAYER)
    assert same(weights_of(wrapper), pretrained)  # starts from the pretrained weights
    head = weights_of(model.get_layer("lstm"))
    train(model, (x, y), epochs=2, batch_size=8, learning_rate=1e-2, verbose=0)
    assert same(weights_of(wrapper), pretrained)  # frozen: the encoder did not move
    assert not same(weights_of(model.get_layer("lstm")), head)  # the head did

    zoo.set_encoder_trainable(model, True)
    train(model, (x, y), epochs=1, batch_size=8, learning_rate=1e-3, verbose=0)
    assert not same(weights_of(wrapper), pretrained)  # fine-tuning moves the encoder
    assert same(weights_of(encoder), pretrained)  # the model trained a copy; the pretrained encoder is intact

    with pytest.raises(ValueError, match="takes frames"):
        zoo.build_transfer(encoder=encoder, num_classes=2, image_size=64)


# --- multi-input data path ---

def test_make_dataset_and_take_handle_a_dict_of_inputs():
    x = clips(5)
    flow = np.arange(5 * 2, dtype=np.float16).reshape(5, 2)
    labels = np.array([0, 1, 2, 0, 1])
    ds = make_dataset({"clip": x, "flow": flow}, labels, num_classes=3, batch_size=2, shuffle=True, seed=3)
    seen = []
    for batch, onehot in ds.as_numpy_iterator():
        assert set(batch) == {"clip", "flow"}
        assert batch["clip"].dtype == np.uint8 and batch["flow"].dtype == np.float16  # dtypes kept
        rows = (batch["flow"][:, 0] / 2).astype(int)
        np.testing.assert_array_equal(batch["clip"], x[rows])  # both arrays gathered with the same indices
        np.testing.assert_array_equal(onehot.argmax(1), labels[rows])
        seen.extend(rows.tolist())
    assert sorted(seen) == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="4 clips in 'flow' but 5 labels"):
        make_dataset({"clip": x, "flow": flow[:4]}, labels, num_classes=3, batch_size=2)
    picked = take({"clip": x, "flow": flow}, np.array([4, 1]))
    np.testing.assert_array_equal(picked["flow"], flow[[4, 1]])
    np.testing.assert_array_equal(take(x, np.array([3])), x[[3]])


def motion_clips(n: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Class 0: a textured square moving right; class 1: moving left. Same frames, opposite motion."""
    steps = [(2, 0), (-2, 0)]
    labels = np.arange(n) % 2
    x = np.stack([moving_square(num_frames=NUM_FRAMES, size=IMAGE_SIZE, step=steps[label], seed=i)
                  for i, label in enumerate(labels)])
    return x, labels


def test_two_stream_trains_through_train_and_evaluate(tmp_path):
    x, y = motion_clips()
    flow = create_flow_dataset(x, cache_dir=tmp_path, num_workers=1, progress=False)  # float16 memmap
    inputs = {"clip": x, "flow": flow}
    set_seed(0)
    model = zoo.build_two_stream(num_classes=2, num_frames=NUM_FRAMES, image_size=IMAGE_SIZE, frame_size=16,
                                flow_size=16, flow_filters=(8, 8), dropout=0.0)
    history = train(model, (inputs, y), epochs=3, batch_size=4, learning_rate=3e-3, patience=10, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < losses[0]
    result = evaluate(model, (inputs, y), batch_size=4, class_names=["right", "left"])
    assert result.confusion.sum() == len(y) and result.probabilities.shape == (len(y), 2)


def test_run_experiment_splits_every_input_of_a_dict(monkeypatch):
    import helpers.experiment as experiment

    seen = {}

    def fake_train(model, train_data, *, validation_data, **kwargs):
        seen["train"], seen["val"] = train_data, validation_data
        return SimpleNamespace(history={"loss": [1.0]})

    def fake_evaluate(model, test_data, **kwargs):
        seen["test"] = test_data
        return "evaluation"

    monkeypatch.setattr(experiment, "train", fake_train)
    monkeypatch.setattr(experiment, "evaluate", fake_evaluate)
    clip, flow, labels = np.arange(6) * 10, np.arange(6) * 100, np.arange(6)
    split = Split("toy", np.array([0, 1, 2]), np.array([3]), np.array([4, 5]))
    run = run_experiment(lambda: None, {"clip": clip, "flow": flow}, labels, split, class_names=["a"], epochs=1,
                         batch_size=1, patience=1)
    assert run.evaluation == "evaluation"
    for key, idx in (("train", [0, 1, 2]), ("val", [3]), ("test", [4, 5])):
        features, part_labels = seen[key]
        np.testing.assert_array_equal(features["clip"], clip[idx])
        np.testing.assert_array_equal(features["flow"], flow[idx])
        np.testing.assert_array_equal(part_labels, labels[idx])
