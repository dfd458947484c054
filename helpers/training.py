"""Input pipelines and training (paper 001's classifier phase, as in its code:
Adam, categorical cross-entropy, EarlyStopping on val_loss with best weights restored).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from helpers.keras_compat import apply_strategy_fixes, built_under_strategy

ModelOrBuilder = keras.Model | Callable[[], keras.Model]
Features = np.ndarray | Mapping[str, np.ndarray]  # clips, or {input name: array} for multi-input models


def take(features: Features, indices: np.ndarray) -> Features:
    """Rows ``indices`` of a clip array, or of every array of a dict of model inputs.

    Args:
        features: ``(num_clips, ...)`` array, or a dict of such arrays (e.g.
            ``{"clip": clips, "flow": flow}`` for notebook 05's two-stream model).
        indices: int ``(n,)``.

    Returns:
        The same kind of object with ``n`` rows.
    """
    if isinstance(features, Mapping):
        return {name: array[indices] for name, array in features.items()}
    return features[indices]


#: Training-set augmentations :func:`make_dataset` and :func:`train` accept by name.
AUGMENTATIONS = ("flip",)


def _flip_clips(clips: tf.Tensor, key: tf.Tensor) -> tf.Tensor:
    """Mirror about half of the clips left-right, each clip as a whole (every frame alike).

    ``clips``: ``(batch, num_frames, height, width, channels)``, returned in the same shape;
    ``key``: int64 ``(2,)`` seed of the stateless draw of which clips flip.
    """
    flip = tf.random.stateless_uniform([tf.shape(clips)[0]], seed=key) < 0.5
    return tf.where(flip[:, None, None, None, None], tf.reverse(clips, axis=[3]), clips)


def make_dataset(features: Features, labels: np.ndarray, *, num_classes: int, batch_size: int,
                 shuffle: bool = False, seed: int = 27, augment: str | None = None) -> tf.data.Dataset:
    """A tf.data pipeline over uint8 clips that never copies the whole array.

    Batches are gathered from ``features`` (an array or a read-only memmap) by index,
    so memory stays bounded by a few batches even for UCF101. Only the training set
    should be shuffled. A model with several inputs (the two-stream model) takes a dict
    ``{input name: array}``: every array is gathered with the same indices and keeps
    its dtype (Keras casts, e.g., float16 flow to the input's float32).

    Args:
        features: uint8 ``(num_clips, num_frames, height, width, 3)``, or a dict of
            arrays with ``num_clips`` rows each, keyed by the model's input names.
        labels: int ``(num_clips,)``.
        num_classes: Width of the one-hot labels.
        batch_size: Clips per batch (the global batch under a distribution strategy).
        shuffle: Reshuffle every epoch.
        seed: Shuffle (and augmentation) seed.
        augment: None, or ``"flip"``: mirror each clip left-right with probability 1/2,
            every frame alike (for the training set only; not in the papers' code, so the
            notebooks leave it off unless asked). Single-input clips only: flipping
            optical flow would also need its x component negated.

    Returns:
        Dataset of ``(clips uint8 (batch, num_frames, height, width, 3),
        one-hot float32 (batch, num_classes))``; with a dict, ``({name: (batch, ...)},
        one-hot)``.
    """
    named = isinstance(features, Mapping)
    names = list(features) if named else [None]
    arrays = [np.asarray(a) if not isinstance(a, np.ndarray) else a
              for a in (features.values() if named else [features])]
    if not arrays:
        raise ValueError("features is an empty dict")
    labels = np.asarray(labels, dtype=np.int64)
    for name, array in zip(names, arrays, strict=True):
        if len(array) != len(labels):
            raise ValueError(f"{len(array)} clips{f' in {name!r}' if name else ''} but {len(labels)} labels")
    if len(labels) == 0:
        raise ValueError("cannot build a dataset from 0 clips")
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f"labels must lie in [0, {num_classes}), got [{labels.min()}, {labels.max()}]: "
                         "does the model's class count match the data?")
    if augment is not None and augment not in AUGMENTATIONS:
        raise ValueError(f"augment must be None or one of {AUGMENTATIONS}, got {augment!r}")
    if augment is not None and named:
        raise ValueError(f"augment={augment!r} works on single-input clips, not on a dict of inputs {names}")
    eye = np.eye(num_classes, dtype=np.float32)
    dtypes = [tf.as_dtype(a.dtype) for a in arrays]

    def gather(idx: np.ndarray) -> tuple[np.ndarray, ...]:
        order = np.sort(idx)  # sorted reads are sequential on a memmap
        return (*(np.ascontiguousarray(a[order]) for a in arrays), eye[labels[order]])

    @tf.autograph.experimental.do_not_convert  # plain tensor ops: nothing for AutoGraph to convert
    def load(idx: tf.Tensor):
        *xs, y = tf.numpy_function(gather, [idx], [*dtypes, tf.float32], stateful=False)
        for x, array in zip(xs, arrays, strict=True):
            x.set_shape((None, *array.shape[1:]))
        y.set_shape((None, num_classes))
        return (dict(zip(names, xs, strict=True)) if named else xs[0]), y

    ds = tf.data.Dataset.range(len(labels))
    if shuffle:
        ds = ds.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size).map(load, num_parallel_calls=tf.data.AUTOTUNE)
    if augment == "flip":  # keyed by (seed, batch number): repeatable; reshuffling varies it per epoch
        ds = ds.enumerate().map(lambda i, xy: (_flip_clips(xy[0], tf.stack([tf.constant(seed, tf.int64), i])), xy[1]),
                                num_parallel_calls=tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.with_options(options).prefetch(tf.data.AUTOTUNE)


def compile_model(model: keras.Model, *, optimizer: str | keras.optimizers.Optimizer = "adam",
                  learning_rate: float | None = None, metrics: Sequence = ("accuracy",),
                  jit_compile: bool | str = "auto") -> keras.Model:
    """Compile with categorical cross-entropy (one-hot labels) as the paper's code does.

    ``jit_compile`` is passed to Keras (``"auto"``: XLA on a GPU, not on a CPU or
    under a distribution strategy).
    """
    if isinstance(optimizer, str):
        optimizer = keras.optimizers.get(optimizer)
        if learning_rate is not None:
            optimizer.learning_rate = learning_rate
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=list(metrics),
                  jit_compile=jit_compile)
    return model


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

