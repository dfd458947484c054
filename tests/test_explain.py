"""Grad-CAM (notebook 07's #@save definitions, imported from studies/explainability.py): shapes, range, and that
the heatmap points where the decision is made."""

from __future__ import annotations

import keras
import matplotlib
import numpy as np
import pytest
from keras import layers

from helpers.layers import FoldedTimeDistributed
from helpers.paper_models import build_lrcn, build_two_stream
from studies.explainability import find_cam_layer, grad_cam, plot_grad_cam

matplotlib.use("Agg")

NUM_FRAMES, SIZE = 3, 16


def top_left_model() -> keras.Model:
    """A clip classifier whose score depends only on the top-left 8x8 quadrant of each frame.

    A fixed 1x1 convolution (feature = red channel), then everything outside the quadrant
    is cropped away before the classifier.
    """
    inputs = keras.Input((NUM_FRAMES, SIZE, SIZE, 3), dtype="uint8")
    x = layers.Rescaling(1 / 255)(inputs)
    conv = layers.Conv2D(2, 1, activation="relu", name="conv")
    x = FoldedTimeDistributed(conv, name="frame_conv")(x)
    x = FoldedTimeDistributed(layers.Cropping2D(((0, SIZE // 2), (0, SIZE // 2))))(x)
    x = FoldedTimeDistributed(layers.GlobalAveragePooling2D())(x)
    dense = layers.Dense(2, activation="softmax")
    model = keras.Model(inputs, dense(layers.GlobalAveragePooling1D()(x)))
    conv.set_weights([np.array([[[[1.0, 0.5], [0.0, 0.0], [0.0, 0.0]]]]), np.zeros(2)])
    dense.set_weights([np.array([[-4.0, 4.0], [-2.0, 2.0]]), np.zeros(2)])
    return model


def test_default_layer_is_last_frame_conv():
    assert find_cam_layer(top_left_model()) == "frame_conv"
    lrcn = build_lrcn(num_classes=3, num_frames=3, image_size=64)
    assert lrcn.get_layer(find_cam_layer(lrcn)).layer.filters == 64
    with pytest.raises(ValueError, match="TimeDistributed"):
        find_cam_layer(keras.Sequential([keras.Input((4,)), layers.Dense(2)]))


def test_lrcn_shapes_and_range():
    lrcn = build_lrcn(num_classes=3, num_frames=3, image_size=64)
    clip = np.random.default_rng(0).integers(0, 256, (3, 64, 64, 3), dtype=np.uint8)
    for normalize in ("frame", "clip"):
        heat = grad_cam(lrcn, clip, class_index=1, normalize=normalize)
        assert heat.shape == (3, 64, 64) and heat.dtype == np.float32
        assert heat.min() >= 0 and heat.max() <= 1


def test_two_stream_model_gets_its_flow_and_maps_of_its_appearance_stream():
    model = build_two_stream(num_classes=3, num_frames=4, image_size=32)
    rng = np.random.default_rng(1)
    clip = rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    assert find_cam_layer(model).startswith("cnn_")  # the appearance stream's frame CNN
    heat = grad_cam(model, clip, method="hirescam")
    assert heat.shape == (4, 32, 32) and heat.dtype == np.float32
    assert heat.min() >= 0 and heat.max() <= 1


@pytest.mark.parametrize("method", ["gradcam", "hirescam"])
def test_heatmap_mass_in_the_deciding_region(method):
    rng = np.random.default_rng(1)
    if method == "gradcam":  # the object (red) is in the deciding quadrant; elsewhere a dim background
        clip = np.zeros((NUM_FRAMES, SIZE, SIZE, 3), np.uint8)
        clip[:, 2:6, 2:6, 0] = 255
        clip[..., 1:] = rng.integers(0, 256, (NUM_FRAMES, SIZE, SIZE, 2))
    else:  # red everywhere: only the element-wise variant can tell which part matters
        clip = rng.integers(0, 256, (NUM_FRAMES, SIZE, SIZE, 3), dtype=np.uint8)
    heat = grad_cam(top_left_model(), clip, class_index=1, method=method)
    assert heat.shape == (NUM_FRAMES, SIZE, SIZE)
    inside = heat[:, : SIZE // 2, : SIZE // 2].sum()
    assert inside / heat.sum() > 0.9  # bilinear upsampling spills a little over the border
    np.testing.assert_allclose(heat.max(axis=(1, 2)), 1.0)


def test_plot_grad_cam():
    clip = np.zeros((5, 8, 8, 3), np.uint8)
    fig = plot_grad_cam(clip, np.random.default_rng(0).random((5, 8, 8)), max_frames=3, title="t")
    assert len(fig.axes) == 6
    with pytest.raises(ValueError):
        plot_grad_cam(clip, np.zeros((4, 8, 8)))
