"""Deployment: the benchmark's models as their full-int8 ``.tflite`` export run by LiteRT (:mod:`helpers.deploy`).
The wall time and peak memory of the command line per model file are :mod:`benchmarks.cli_footprint`'s."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from helpers.config import SEED


def int8_predictor(model, path: Path, *, num_frames: int, image_size: int):
    """``model`` exported to ``path`` as a full-int8 ``.tflite`` file and loaded for LiteRT inference.

    Speed only: an untrained model is calibrated on 8 random clips ``(8, num_frames, image_size, image_size, 3)``.
    """
    from helpers.deploy import TFLitePredictor, export_model

    calibration = np.random.default_rng(SEED).integers(0, 256, (8, num_frames, image_size, image_size, 3),
                                                       dtype=np.uint8)
    return TFLitePredictor(export_model(model, path, quantize="int8", representative_clips=calibration))
