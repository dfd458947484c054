"""Keras' and the TFLite converter's private API, read in helpers/keras_compat.py only: each accessor answers
from the private name where it exists and falls back (or fails in one line) where it does not."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import keras
import pytest
import tensorflow as tf

from helpers.keras_compat import built_under_strategy, disable_per_channel, layer_takes_training

ROOT = Path(__file__).resolve().parent.parent


def test_layer_takes_training_reads_the_flag_or_the_signature():
    class WithTraining(keras.layers.Layer):
        def call(self, inputs, training=None):
            return inputs

    class WithoutTraining(keras.layers.Layer):
        def call(self, inputs):
            return inputs

    assert layer_takes_training(keras.layers.Dropout(0.5)) is True
    assert layer_takes_training(WithTraining()) is True and layer_takes_training(WithoutTraining()) is False
    for layer, expected in ((WithTraining(), True), (WithoutTraining(), False)):
        layer._call_has_training_arg = None  # a Keras without the flag: the signature answers
        assert layer_takes_training(layer) is expected


def test_built_under_strategy():
    with tf.distribute.OneDeviceStrategy("/cpu:0").scope():
        inside = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    outside = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    assert built_under_strategy(inside) and not built_under_strategy(outside)


def test_disable_per_channel_sets_the_switch_or_fails_in_one_line():
    converter = SimpleNamespace(_experimental_disable_per_channel=False)
    disable_per_channel(converter, path="m.tflite")
    assert converter._experimental_disable_per_channel is True
    with pytest.raises(RuntimeError, match=r"^m\.tflite: this TensorFlow's converter has no per-tensor switch; "
                                           r"export with per_channel=True \(--per-channel\)$"):
        disable_per_channel(SimpleNamespace(), path="m.tflite")


def test_private_keras_names_only_in_keras_compat():
    """No other module of helpers/ (nor the application, har_app/) reads the private names keras_compat wraps."""
    private = re.compile(r"\._call_has_training_arg|\._distribute_strategy|\._experimental_disable_per_channel\b"
                         r"|\._symbolic_build|keras\.src\b")
    offenders = [p.name for p in [*(ROOT / "helpers").glob("*.py"), *(ROOT / "har_app").glob("*.py")]
                 if p.name != "keras_compat.py" and private.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
