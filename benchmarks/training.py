"""Section 5: training ms/step through :func:`helpers.training.train` and the first epoch's overhead."""

from __future__ import annotations

import time

import numpy as np
from tqdm.auto import tqdm

from benchmarks.models import keras_convlstm_builder, model_builders
from benchmarks.settings import NUM_CLASSES, BenchSettings
from benchmarks.timing import median
from helpers.config import SEED
from helpers.papers import PAPER001


def _step_timer():
    import keras

    class StepTimer(keras.callbacks.Callback):
        """Wall time of every epoch and of every step (end of one batch to the end of the next)."""

        def __init__(self):
            super().__init__()
            self.epochs: list[float] = []
            self.steps: list[list[float]] = []

        def on_epoch_begin(self, epoch, logs=None):
            self._epoch_start = self._last = time.perf_counter()
            self.steps.append([])

        def on_train_batch_end(self, batch, logs=None):
            now = time.perf_counter()
            self.steps[-1].append(now - self._last)
            self._last = now

        def on_epoch_end(self, epoch, logs=None):
            self.epochs.append(time.perf_counter() - self._epoch_start)

    return StepTimer()


def bench_training(features: np.ndarray, *, settings: BenchSettings, progress: bool = True) -> dict:
    """ms/step and clips/s of LRCN and ConvLSTM training through :func:`helpers.training.train`
    at batch 4 (the paper's) and 32, and the first epoch's extra time (graph tracing).

    ms/step is the median step of the epochs after the first; the first-epoch overhead is
    the first epoch's time minus its steps at that median.

    Args:
        features: uint8 clips ``(n, num_frames, image_size, image_size, 3)``; repeated
            when fewer than ``32 * train_steps`` (labels are random: speed only).
    """
    import keras

    from helpers.training import train

    rng = np.random.default_rng(SEED)
    flat: dict = {}
    details: dict = {}
    builders = model_builders(settings)
    runs = [(name, builder, b) for name, builder in builders.items() for b in (4, 32)]
    # Keras' own ConvLSTM2D layer against helpers.layers.FusedConvLSTM2D (the same model otherwise), batch 4
    runs.append(("convlstm_keras", keras_convlstm_builder(settings, builders["convlstm"]), 4))
    for name, builder, batch_size in tqdm(runs, desc="Training", unit="run", disable=not progress):
        n = batch_size * settings.train_steps
        x = features[np.arange(n) % len(features)]
        y = rng.integers(0, NUM_CLASSES, n)
        keras.utils.set_random_seed(SEED)
        model = builder(num_classes=NUM_CLASSES, num_frames=settings.num_frames, image_size=settings.image_size)
        timer = _step_timer()
        train(model, (x, y), epochs=settings.train_epochs, batch_size=batch_size, callbacks=[timer],
              patience=settings.train_epochs, verbose=0)
        steady = [s for epoch in timer.steps[1:] for s in epoch]
        ms_step = median(steady) * 1e3
        flat[f"{name}_train_ms_step_b{batch_size}"] = ms_step
        details[f"{name}_b{batch_size}"] = {
            "clips_per_s": batch_size / (ms_step / 1e3),
            "first_epoch_s": timer.epochs[0],
            "first_epoch_overhead_s": timer.epochs[0] - len(timer.steps[0]) * ms_step / 1e3,
            "steps_per_epoch": len(timer.steps[0]), "epochs": len(timer.epochs),
        }
    details["convlstm_keras_over_ours_b4"] = flat["convlstm_keras_train_ms_step_b4"] / flat["convlstm_train_ms_step_b4"]
    details["convlstm_over_lrcn_b4"] = flat["convlstm_train_ms_step_b4"] / flat["lrcn_train_ms_step_b4"]
    details["convlstm_over_lrcn_b32"] = flat["convlstm_train_ms_step_b32"] / flat["lrcn_train_ms_step_b32"]
    details["paper_ms_step"] = {"lrcn": PAPER001["lrcn"]["ms_per_step"],
                                "convlstm": PAPER001["convlstm"]["ms_per_step"]}
    details["paper_convlstm_over_lrcn"] = PAPER001["convlstm"]["ms_per_step"] / PAPER001["lrcn"]["ms_per_step"]
    return {"flat": flat, "details": details}
