"""Paper 001 models: exact parameter counts, Figure 8 shapes, input contract, save/load."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from helpers.layers import ClipRescaling
from helpers.models import load_model, model_spec, save_model
from helpers.paper_models import build_convlstm, build_lrcn

# Paper 001, Figure 8: output shape of every TimeDistributed layer, then LSTM and Dense.
FIGURE8_SHAPES = [
    (None, 20, 64, 64, 16), (None, 20, 16, 16, 16), (None, 20, 16, 16, 16),
    (None, 20, 16, 16, 32), (None, 20, 4, 4, 32), (None, 20, 4, 4, 32),
    (None, 20, 4, 4, 64), (None, 20, 2, 2, 64), (None, 20, 2, 2, 64),
    (None, 20, 2, 2, 64), (None, 20, 1, 1, 64), (None, 20, 64),
    (None, 32), (None, 4),
]
FIGURE8_PARAMS = [448, 0, 0, 4640, 0, 0, 18496, 0, 0, 36928, 0, 0, 12416, 132]


def test_lrcn_matches_figure8_exactly():
    model = build_lrcn(num_classes=4)
    assert model.count_params() == 73_060
    body = [layer for layer in model.layers if not isinstance(layer, (keras.layers.InputLayer, ClipRescaling))]
    assert [tuple(layer.output.shape) for layer in body] == FIGURE8_SHAPES
    assert [layer.count_params() for layer in body] == FIGURE8_PARAMS
    assert all(isinstance(layer, keras.layers.TimeDistributed) for layer in body[:12])


def test_convlstm_parameter_count():
    model = build_convlstm(num_classes=4)
    assert model.count_params() == 44_524
    assert model.output_shape == (None, 4)
    assert [layer.filters for layer in model.layers if isinstance(layer, keras.layers.ConvLSTM2D)] == [4, 8, 14, 16]


@pytest.mark.parametrize("builder", [build_lrcn, build_convlstm])
def test_models_take_raw_uint8_clips(builder):
    model = builder(num_classes=3, num_frames=6, image_size=64)
    assert model.input.dtype == "uint8"
    rescale = model.get_layer("rescaling")
    assert isinstance(rescale, keras.layers.Rescaling) and rescale.count_params() == 0
    clips = np.random.default_rng(0).integers(0, 256, (2, 6, 64, 64, 3), dtype=np.uint8)
    probs = model.predict(clips, verbose=0)
    assert probs.shape == (2, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("builder", [build_lrcn, build_convlstm])
def test_saved_model_carries_class_names_and_predicts_the_same(tmp_path, builder):
    names = ["Jumping", "SitDown", "StandUp"]
    model = builder(num_classes=3, num_frames=8, image_size=64)
    clips = np.random.default_rng(2).integers(0, 256, (3, 8, 64, 64, 3), dtype=np.uint8)
    expected = model.predict(clips, verbose=0)
    path = save_model(model, tmp_path / f"{model.name}.keras", class_names=names)
    assert not list(tmp_path.glob("*tmp*"))  # atomic write leaves no temp file
    reloaded = load_model(path)
    spec = model_spec(reloaded)
    assert spec.class_names == tuple(names) and spec.num_frames == 8 and spec.image_size == 64
    np.testing.assert_allclose(reloaded.predict(clips, verbose=0), expected, rtol=1e-5, atol=1e-6)


def test_save_refuses_wrong_number_of_class_names(tmp_path):
    with pytest.raises(ValueError, match="3 outputs but 2 class names"):
        save_model(build_lrcn(num_classes=3, num_frames=4), tmp_path / "m.keras", class_names=["a", "b"])


def test_load_model_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.keras"):
        load_model(tmp_path / "missing.keras")
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="bad.keras"):
        load_model(bad)
