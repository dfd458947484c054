"""The benchmark's models: the LRCN and the ConvLSTM (untrained; speed does not depend on the weights), or tiny
stand-ins of the same structure in the smallest setting."""

from __future__ import annotations

from collections.abc import Callable

from benchmarks.settings import BenchSettings


def _tiny_lrcn(*, num_classes: int, num_frames: int, image_size: int, class_names=None):
    """Stand-in for the LRCN in the smallest setting: per-frame CNN -> ``frame_features`` -> LSTM."""
    import keras
    from keras import layers

    from helpers.layers import FoldedTimeDistributed as TimeDistributed
    from helpers.models import clip_input

    inputs, x = clip_input(num_classes=num_classes, num_frames=num_frames, image_size=image_size,
                           class_names=class_names)
    x = TimeDistributed(layers.Conv2D(2, (3, 3), strides=4, activation="relu"))(x)
    x = TimeDistributed(layers.GlobalAveragePooling2D(), name="frame_features")(x)
    x = layers.LSTM(4)(x)
    return keras.Model(inputs, layers.Dense(num_classes, activation="softmax")(x), name="lrcn")


def _tiny_convlstm(*, num_classes: int, num_frames: int, image_size: int, class_names=None):
    """Stand-in for the ConvLSTM in the smallest setting: one small ConvLSTM2D."""
    import keras
    from keras import layers

    from helpers.models import clip_input

    inputs, x = clip_input(num_classes=num_classes, num_frames=num_frames, image_size=image_size,
                           class_names=class_names)
    x = layers.ConvLSTM2D(2, (3, 3), strides=4)(x)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(num_classes, activation="softmax")(x), name="convlstm")


def keras_convlstm_builder(settings: BenchSettings, ours: Callable) -> Callable:
    """The ConvLSTM built with ``keras.layers.ConvLSTM2D`` (the tiny stand-in already uses it)."""
    if settings.tiny_models:
        return ours
    from functools import partial

    from helpers.paper_models import build_convlstm

    return partial(build_convlstm, fast=False)


def model_builders(settings: BenchSettings) -> dict[str, Callable]:
    """``{"lrcn": builder, "convlstm": builder}``: the paper's models, or tiny stand-ins."""
    if settings.tiny_models:
        return {"lrcn": _tiny_lrcn, "convlstm": _tiny_convlstm}
    from helpers.paper_models import build_convlstm, build_lrcn

    return {"lrcn": build_lrcn, "convlstm": build_convlstm}
