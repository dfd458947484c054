"""What the frame CNN looks at: Grad-CAM heatmaps per frame (paper 003's explainability).

Paper 003 names Grad-CAM (Selvaraju et al., 2017) as the way to see which image regions
a CNN's decision rests on. For a clip model with a per-frame CNN (the LRCN's
``TimeDistributed`` stack, the CNN branch of paper 000's models), the feature maps
``A`` of one convolution have shape ``(num_frames, h, w, channels)``; the heatmap of
frame ``t`` is

* ``"gradcam"``: ``relu(sum_c alpha_tc * A_tc)`` with ``alpha_tc`` the mean over
  ``(h, w)`` of the gradient of the class score with respect to ``A_tc``;
* ``"hirescam"`` (Draelos & Carin, 2020): ``relu(sum_c grad_tc * A_tc)`` element-wise,
  without the spatial mean. It only lights up positions the score actually depends on;
  Grad-CAM's averaged weights can also light up places where the same channels fire
  but do not matter.

Heatmaps are upsampled to the frame size and scaled to [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from keras import layers

from helpers.inference import model_inputs

METHODS = ("gradcam", "hirescam")


def _is_frame_conv(layer) -> bool:
    return isinstance(layer, layers.TimeDistributed) and isinstance(layer.layer, layers.Conv2D)


def find_cam_layer(model: keras.Model) -> str:
    """Name of the last ``TimeDistributed(Conv2D)`` of a clip model (the per-frame CNN's last convolution).

    Raises:
        ValueError: The model has none; pass ``layer_name`` to :func:`grad_cam` then.
    """
    for layer in reversed(model.layers):
        if _is_frame_conv(layer):
            return layer.name
    raise ValueError(f"model {model.name!r} has no TimeDistributed(Conv2D) layer; pass layer_name= "
                     "(any layer with output (batch, num_frames, h, w, channels))")


def grad_cam(model: keras.Model, clip: np.ndarray, *, class_index: int | None = None,
             layer_name: str | None = None, method: str = "gradcam", normalize: str = "frame") -> np.ndarray:
    """Grad-CAM heatmaps of one clip, one per frame.

    Args:
        model: A clip classifier, input ``(batch, num_frames, height, width, 3)``, output
            class probabilities ``(batch, num_classes)``. A two-stream model (clip and
            optical flow) works too: the clip's flow is computed as inference does
            (:func:`helpers.inference.model_inputs`), and the maps are those of its
            appearance stream's frame CNN.
        clip: One clip ``(num_frames, height, width, 3)``, in the model's input dtype (uint8).
        class_index: Class to explain; None means the predicted one.
        layer_name: A top-level layer whose output is ``(batch, num_frames, h, w, channels)``
            (e.g. a ``TimeDistributed(Conv2D)`` or a ``ConvLSTM2D`` with
            ``return_sequences``); None means :func:`find_cam_layer`.
        method: ``"gradcam"`` or ``"hirescam"`` (see the module docstring).
        normalize: ``"frame"`` scales each frame's map to max 1 (where, within a frame);
            ``"clip"`` divides by the clip's maximum (also shows which frames matter).

    Returns:
        float32 heatmaps ``(num_frames, height, width)`` in [0, 1] (all 0 where the map is 0).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if normalize not in ("frame", "clip"):
        raise ValueError(f"normalize must be 'frame' or 'clip', got {normalize!r}")
    clip = np.asarray(clip)
    layer = model.get_layer(layer_name or find_cam_layer(model))
    if len(layer.output.shape) != 5:
        raise ValueError(f"layer {layer.name!r} outputs {layer.output.shape}; Grad-CAM needs "
                         "(batch, num_frames, h, w, channels)")
    probe = keras.Model(model.inputs, [layer.output, model.output], name=f"{model.name}_grad_cam")
    # a two-stream model also gets the clip's optical flow (a dict of inputs)
    x = tf.nest.map_structure(tf.convert_to_tensor, model_inputs(model, clip[None]))
    with tf.GradientTape() as tape:
        maps, probabilities = probe(x, training=False)
        if class_index is None:
            class_index = int(tf.argmax(probabilities[0]))
        score = probabilities[:, class_index]
    grads = tape.gradient(score, maps)[0].numpy()  # (T', h, w, C)
    maps = maps[0].numpy()
    weights = grads.mean(axis=(1, 2), keepdims=True) if method == "gradcam" else grads
    cams = np.maximum((weights * maps).sum(axis=-1), 0.0)  # (T', h, w)
    num_frames, height, width = clip.shape[:3]
    if len(cams) != num_frames:  # e.g. a layer after temporal pooling: nearest frame in time
        cams = cams[np.minimum(np.arange(num_frames) * len(cams) // num_frames, len(cams) - 1)]
    cams = np.stack([cv2.resize(c.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
                     for c in cams])
    cams = np.maximum(cams, 0.0)
    peak = cams.max(axis=(1, 2), keepdims=True) if normalize == "frame" else cams.max(keepdims=True)
    return np.divide(cams, peak, out=np.zeros_like(cams), where=peak > 0).astype(np.float32)


def overlay_heatmap(frame: np.ndarray, heatmap: np.ndarray, *, alpha: float = 0.45) -> np.ndarray:
    """A frame ``(height, width, 3)`` uint8 RGB blended with a heatmap ``(height, width)`` in [0, 1] (jet)."""
    colored = cv2.applyColorMap(np.uint8(np.clip(heatmap, 0, 1) * 255), cv2.COLORMAP_JET)
    colored = cv2.cvtColor(colored, cv2.COLOR_BGR2RGB)
    return cv2.addWeighted(np.asarray(frame, np.uint8), 1.0 - alpha, colored, alpha, 0.0)


def plot_grad_cam(clip: np.ndarray, heatmaps: np.ndarray, *, max_frames: int = 8, alpha: float = 0.45,
                  title: str = "", frame_labels: Sequence[str] | None = None) -> plt.Figure:
    """Frames (top row) and their Grad-CAM overlays (bottom row).

    Args:
        clip: uint8 ``(num_frames, height, width, 3)``.
        heatmaps: ``(num_frames, height, width)`` in [0, 1], from :func:`grad_cam`.
        max_frames: Frames shown, evenly spaced.
        alpha: Opacity of the heatmap.
        title: Figure title.
        frame_labels: Optional caption per shown frame (default ``t=<index>``).

    Returns:
        The figure.
    """
    if len(clip) != len(heatmaps):
        raise ValueError(f"{len(clip)} frames but {len(heatmaps)} heatmaps")
    idx = np.linspace(0, len(clip) - 1, min(max_frames, len(clip))).astype(int)
    fig, axes = plt.subplots(2, len(idx), figsize=(1.5 * len(idx), 3.3), squeeze=False)
    for j, i in enumerate(idx):
        axes[0, j].imshow(clip[i])
        axes[0, j].set_title(frame_labels[j] if frame_labels is not None else f"t={i}", fontsize=7)
        axes[1, j].imshow(overlay_heatmap(clip[i], heatmaps[i], alpha=alpha))
        axes[0, j].axis("off")
        axes[1, j].axis("off")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig
