"""The tf.data pipeline over uint8 clips (``make_dataset``) and the loss its one-hot labels need
(``compile_model``): what training and evaluation both feed a model with.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import keras
import numpy as np
import tensorflow as tf

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
