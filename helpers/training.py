"""Training (paper 001's classifier phase, as in its code:
Adam, categorical cross-entropy, EarlyStopping on val_loss with best weights restored).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from helpers.keras_compat import apply_strategy_fixes, built_under_strategy
from helpers.pipeline import (  # noqa: F401  (make_dataset, take: the old paths notebooks 01/02/05 and experiment import)
    Features,
    compile_model,
    make_dataset,
    take,
)

ModelOrBuilder = keras.Model | Callable[[], keras.Model]


@contextlib.contextmanager
def _dtype_policy(policy: str | None):
    """Build layers under a Keras dtype policy, then restore the global one."""
    if policy is None:
        yield
        return
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def run_folders(results_dir: str | os.PathLike, name: str) -> dict[str, Path]:
    """Where run ``name`` keeps its TensorBoard log and its BackupAndRestore backup.

    Returns:
        ``{"log_dir": results_dir/logs/name, "backup_dir": results_dir/backup/name}``, the
        keyword arguments of :func:`train`. A backup only fits the run that wrote it, so
        give every run (model, settings, split) its own name.
    """
    return {"log_dir": Path(results_dir) / "logs" / name, "backup_dir": Path(results_dir) / "backup" / name}


def train(
    model: ModelOrBuilder,
    train_data: tuple[Features, np.ndarray],
    *,
    epochs: int,
    batch_size: int,
    validation_data: tuple[Features, np.ndarray] | None = None,
    patience: int = 15,
    checkpoint_path: str | os.PathLike | None = None,
    strategy: tf.distribute.Strategy | None = None,
    optimizer: str | Callable[[], keras.optimizers.Optimizer] = "adam",
    learning_rate: float | None = None,
    metrics: Sequence = ("accuracy",),
    seed: int = 27,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int | str = "auto",
    mixed_precision: bool | str = False,
    jit_compile: bool | str = False,
    augment: str | None = None,
    log_dir: str | os.PathLike | None = None,
    backup_dir: str | os.PathLike | None = None,
) -> keras.callbacks.History:
    """Compile and fit a model on uint8 clips.

    EarlyStopping watches ``val_loss`` (``loss`` without validation data) with
    ``restore_best_weights=True`` (patience 15 for the LRCN and 10 for the ConvLSTM in
    the paper's code). With ``checkpoint_path`` the best model so far is saved there.

    Args:
        model: A model, or a zero-argument builder. Under a ``strategy`` other than the
            default, pass a builder so the variables are created inside its scope.
        train_data: ``(features, labels)``: uint8 ``(n, num_frames, h, w, 3)`` (or a dict of
            inputs, see :func:`make_dataset`) and int ``(n,)``.
        epochs: Maximum epochs.
        batch_size: Global batch size.
        validation_data: ``(features, labels)`` used for early stopping.
        patience: EarlyStopping patience in epochs.
        checkpoint_path: Where to save the best model (``.keras``), or None.
        strategy: A ``tf.distribute.Strategy``; None means the current one.
        optimizer: Optimizer name, or a zero-argument factory returning an optimizer.
        learning_rate: Overrides the optimizer's default.
        metrics: Keras metrics to compile with.
        seed: Seed of the training-set shuffle.
        callbacks: Extra Keras callbacks.
        verbose: Passed to ``fit``.
        mixed_precision: Opt-in. True builds the model under the ``"mixed_float16"``
            policy (float16 compute, float32 weights, dynamic loss scaling: for NVIDIA
            GPUs with tensor cores); a string names another Keras policy, e.g.
            ``"mixed_bfloat16"`` (TPUs, recent CPUs). Needs a builder, since the policy
            applies while layers are created; the global policy is restored afterwards.
        jit_compile: Opt-in XLA compilation of the train step (``"auto"`` is Keras's
            default: XLA on a GPU without a strategy). Off by default so CPU and GPU
            runs take the same path unless asked.
        augment: Training-set augmentation, see :func:`make_dataset` (None: none, as in
            the papers' code).
        log_dir: A TensorBoard log of the run goes there (``tensorboard --logdir`` it), or None.
        backup_dir: ``keras.callbacks.BackupAndRestore`` keeps the last finished epoch there
            and an interrupted run called again resumes from it (deleted when training ends).
            One folder per run: see :func:`run_folders`.

    Returns:
        The Keras ``History``; the trained model is ``history.model``.
    """
    explicit_strategy = strategy is not None
    strategy = strategy or tf.distribute.get_strategy()
    policy = ("mixed_float16" if mixed_precision is True else mixed_precision) or None
    with strategy.scope():
        if isinstance(model, keras.Model):
            if explicit_strategy and getattr(model, "distribute_strategy", strategy) is not strategy:
                raise ValueError(f"model {model.name!r} was built outside the given strategy's scope; "
                                 "pass a builder (e.g. lambda: build_lrcn(...)) instead")
            if policy is not None and model.dtype_policy.name != policy:
                raise ValueError(f"mixed_precision={mixed_precision!r} needs a builder (e.g. lambda: "
                                 f"build_lrcn(...)): model {model.name!r} was built as {model.dtype_policy.name}")
        else:
            with _dtype_policy(policy):
                model = model()
        opt = optimizer() if callable(optimizer) else optimizer
        compile_model(model, optimizer=opt, learning_rate=learning_rate, metrics=metrics, jit_compile=jit_compile)

    num_classes = int(model.output_shape[-1])
    train_ds = make_dataset(*train_data, num_classes=num_classes, batch_size=batch_size, shuffle=True, seed=seed,
                            augment=augment)
    val_ds = None
    if validation_data is not None:
        val_ds = make_dataset(*validation_data, num_classes=num_classes, batch_size=batch_size)
    monitor = "val_loss" if val_ds is not None else "loss"
    all_callbacks: list[keras.callbacks.Callback] = [
        keras.callbacks.EarlyStopping(monitor=monitor, patience=patience, mode="min", restore_best_weights=True),
    ]
    if checkpoint_path is not None:
        Path(checkpoint_path).parent.mkdir(parents=True, exist_ok=True)
        all_callbacks.append(keras.callbacks.ModelCheckpoint(str(checkpoint_path), monitor=monitor,
                                                             save_best_only=True, mode="min"))
    if log_dir is not None:
        all_callbacks.append(keras.callbacks.TensorBoard(log_dir=str(log_dir)))
    if backup_dir is not None:
        all_callbacks.append(keras.callbacks.BackupAndRestore(backup_dir=str(backup_dir)))
    all_callbacks.extend(callbacks)
    if built_under_strategy(model):
        apply_strategy_fixes(model, train_ds)
    # the dataset is already shuffled (training set only); shuffle=False silences Keras' warning
    return model.fit(train_ds, validation_data=val_ds, epochs=epochs, callbacks=all_callbacks, verbose=verbose,
                     shuffle=False)

