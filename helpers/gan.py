"""A small class-conditional DCGAN over single frames, and whether its samples help (papers 002, 003).

Papers 002 and 003 credit GANs with "improving training datasets" by augmentation.
This module measures it on our data instead:

1. :func:`frames_from_clips` takes a few frames of every training clip, downscaled to
   32x32 and, by default, as motion frames (the static, group-specific background
   removed). At 32x32 with 16 base filters, 30 epochs over the embedded dataset's 1,440
   training frames take about 1.5 minutes on a shared 2-core CPU.
2. :func:`train_dcgan` trains a conditional DCGAN (Radford et al., 2016; the class label
   enters both networks as an embedding, Mirza & Osindero, 2014) on those frames, so
   every generated frame has a label.
3. :func:`gan_augmentation_experiment` trains the same small frame classifier on
   (a) the real training frames, (b) real + generated frames, (c) generated frames only
   and (d) every real frame twice, and tests them on real frames of *held-out groups*,
   over several seeds. (b) against (a) answers the question; (d) takes as many steps as
   (b), so a gain that (d) shows too comes from training longer, not from the GAN; (c)
   ("train on synthetic, test on real") tells whether the generated frames carry the
   class at all.

Frames are uint8 ``(num_frames, image_size, image_size, 3)`` everywhere outside the
networks; the GAN works in [-1, 1].
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from keras import layers

from helpers.config import set_seed

#: The experiment's training sets; ``real_x2`` (every real frame twice) takes as many steps as ``real+gan``.
ARMS: tuple[str, ...] = ("real", "real_x2", "real+gan", "gan_only")


FRAME_MODES: tuple[str, ...] = ("raw", "motion")


def frames_from_clips(features: np.ndarray, labels: np.ndarray, *, frames_per_clip: int = 4, image_size: int = 32,
                      mode: str = "motion") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Evenly spaced frames of every clip, area-downscaled, with their clip's label.

    Args:
        features: uint8 clips ``(num_clips, num_frames, height, width, 3)``.
        labels: int ``(num_clips,)``.
        frames_per_clip: Frames taken per clip (first and last included when > 1).
        image_size: Side of the returned frames.
        mode: ``"raw"`` frames, or ``"motion"``: ``|frame - the clip's mean frame|`` (as
            :class:`helpers.layers.TemporalCentering` with ``absolute=True``), which removes
            the static background that differs between groups and keeps the moving actor.

    Returns:
        ``(frames, frame_labels, clip_ids)``: uint8 ``(num_clips * frames_per_clip,
        image_size, image_size, 3)``, int64 ``(n,)`` labels and int64 ``(n,)`` index of the
        source clip (for clip-level accuracy).
    """
    if mode not in FRAME_MODES:
        raise ValueError(f"mode must be one of {FRAME_MODES}, got {mode!r}")
    labels = np.asarray(labels, dtype=np.int64)
    if len(features) != len(labels):
        raise ValueError(f"{len(features)} clips but {len(labels)} labels")
    num_frames = features.shape[1]
    idx = np.linspace(0, num_frames - 1, min(frames_per_clip, num_frames)).round().astype(int)
    frames = np.empty((len(features) * len(idx), image_size, image_size, 3), np.uint8)
    for c in range(len(features)):
        clip = np.asarray(features[c])
        if mode == "motion":
            clip = np.abs(clip.astype(np.float32) - clip.mean(axis=0, dtype=np.float32))
        for j, t in enumerate(idx):
            frame = cv2.resize(clip[t], (image_size, image_size), interpolation=cv2.INTER_AREA)
            frames[c * len(idx) + j] = np.clip(np.rint(frame), 0, 255)
    return frames, np.repeat(labels, len(idx)), np.repeat(np.arange(len(features), dtype=np.int64), len(idx))


def _check_size(image_size: int) -> int:
    if image_size < 8 or image_size & (image_size - 1):
        raise ValueError(f"image_size must be a power of two >= 8, got {image_size}")
    return int(math.log2(image_size // 4))  # stride-2 stages between 4x4 and image_size


def build_generator(*, num_classes: int, latent_dim: int = 64, image_size: int = 32, base_filters: int = 16,
                    embedding_dim: int = 16) -> keras.Model:
    """The DCGAN generator: noise + class label -> frame.

    ``concat(z, Embedding(label))`` -> Dense(4x4x(base_filters * 2^(stages-1))) -> BN ->
    LeakyReLU, then stride-2 ``Conv2DTranspose`` (4x4) -> BN -> LeakyReLU blocks that halve
    the filters, up to ``image_size``; the last block has 3 filters and tanh.

    Args:
        num_classes: Classes the generator is conditioned on.
        latent_dim: Length of the noise vector.
        image_size: Side of the generated frames (a power of two, >= 8).
        base_filters: Filters of the last hidden block (doubling towards the 4x4 start).
        embedding_dim: Width of the label embedding.

    Returns:
        A model mapping ``[z float32 (batch, latent_dim), label int (batch,)]`` to frames
        float32 ``(batch, image_size, image_size, 3)`` in [-1, 1].
    """
    stages = _check_size(image_size)
    z = keras.Input((latent_dim,), name="z")
    label = keras.Input((), dtype="int32", name="label")
    x = layers.Concatenate()([z, layers.Embedding(num_classes, embedding_dim, name="label_embedding")(label)])
    filters = base_filters * 2 ** (stages - 1)
    x = layers.Dense(4 * 4 * filters, use_bias=False)(x)
    x = layers.Reshape((4, 4, filters))(x)
    x = layers.LeakyReLU(0.2)(layers.BatchNormalization()(x))
    for stage in range(stages - 1):
        filters = max(base_filters, filters // 2)
        x = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False, name=f"up{stage + 1}")(x)
        x = layers.LeakyReLU(0.2)(layers.BatchNormalization()(x))
    frames = layers.Conv2DTranspose(3, 4, strides=2, padding="same", activation="tanh", name="frame")(x)
    return keras.Model([z, label], frames, name="generator")


def build_discriminator(*, num_classes: int, image_size: int = 32, base_filters: int = 16, dropout: float = 0.3
                        ) -> keras.Model:
    """The DCGAN discriminator: frame + class label -> real/fake logit.

    The label is embedded as one extra ``image_size x image_size`` channel; then stride-2
    Conv2D (4x4) -> LeakyReLU blocks doubling the filters down to 4x4 -> Flatten ->
    Dropout -> Dense(1) logit (no sigmoid).

    Args:
        num_classes: Classes.
        image_size: Side of the frames (a power of two, >= 8).
        base_filters: Filters of the first block.
        dropout: Dropout before the logit.

    Returns:
        A model mapping ``[frames float32 (batch, image_size, image_size, 3) in [-1, 1],
        label int (batch,)]`` to logits ``(batch, 1)``.
    """
    stages = _check_size(image_size)
    frames = keras.Input((image_size, image_size, 3), name="frames")
    label = keras.Input((), dtype="int32", name="label")
    plane = layers.Embedding(num_classes, image_size * image_size, name="label_embedding")(label)
    x = layers.Concatenate()([frames, layers.Reshape((image_size, image_size, 1))(plane)])
    for stage in range(stages):
        x = layers.Conv2D(base_filters * 2 ** stage, 4, strides=2, padding="same", name=f"down{stage + 1}")(x)
        x = layers.LeakyReLU(0.2)(x)
    x = layers.Dropout(dropout)(layers.Flatten()(x))
    return keras.Model([frames, label], layers.Dense(1, name="logit")(x), name="discriminator")


class ConditionalGAN(keras.Model):
    """Generator and discriminator trained adversarially by ``fit`` (non-saturating loss).

    ``fit`` takes ``(frames uint8 (batch, s, s, 3), labels int (batch,))`` and logs
    ``d_loss`` and ``g_loss`` per epoch. Real targets are smoothed to 0.9.
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, *, seed: int = 27, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(generator.inputs[0].shape[-1])
        self.noise_seed = keras.random.SeedGenerator(seed)
        self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def compile(self, *, d_optimizer: keras.optimizers.Optimizer, g_optimizer: keras.optimizers.Optimizer, **kwargs):
        super().compile(**kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        # built here, eagerly: creating their variables inside the traced train step costs ~10 s on a CPU
        d_optimizer.build(self.discriminator.trainable_weights)
        g_optimizer.build(self.generator.trainable_weights)

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def train_step(self, data):
        frames, labels = data
        real = tf.cast(frames, "float32") / 127.5 - 1.0
        labels = tf.cast(labels, "int32")
        batch = tf.shape(real)[0]
        z = keras.random.normal((batch, self.latent_dim), seed=self.noise_seed)
        with tf.GradientTape() as tape:
            fake = self.generator([z, labels], training=True)
            real_logits = self.discriminator([real, labels], training=True)
            fake_logits = self.discriminator([fake, labels], training=True)
            d_loss = (self.loss_fn(tf.fill(tf.shape(real_logits), 0.9), real_logits)
                      + self.loss_fn(tf.zeros_like(fake_logits), fake_logits))
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights, strict=True))
        z = keras.random.normal((batch, self.latent_dim), seed=self.noise_seed)
        with tf.GradientTape() as tape:
            fake_logits = self.discriminator([self.generator([z, labels], training=True), labels], training=True)
            g_loss = self.loss_fn(tf.ones_like(fake_logits), fake_logits)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights, strict=True))
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {m.name: m.result() for m in self.metrics}


@dataclass
class GanRun:
    """Result of :func:`train_dcgan`: the trained networks, per-epoch losses and wall time."""

    generator: keras.Model
    discriminator: keras.Model
    history: dict[str, list[float]]
    seconds: float


def train_dcgan(frames: np.ndarray, labels: np.ndarray, *, num_classes: int | None = None, epochs: int = 30,
                batch_size: int = 32, seed: int = 27, latent_dim: int = 64, base_filters: int = 16,
                learning_rate: float = 2e-4, verbose: int | str = 0) -> GanRun:
    """Train a conditional DCGAN on labelled frames (Adam, lr 2e-4, beta_1 0.5 as in DCGAN).

    Args:
        frames: uint8 ``(num_frames, image_size, image_size, 3)``, ``image_size`` a power of two.
        labels: int ``(num_frames,)``.
        num_classes: Classes; None means ``labels.max() + 1``.
        epochs: Passes over the frames.
        batch_size: Frames per step.
        seed: Seeds the weights, the shuffle and the noise (set right before building).
        latent_dim, base_filters: See :func:`build_generator` / :func:`build_discriminator`.
        learning_rate: Of both Adam optimizers.
        verbose: Keras ``fit`` verbosity.

    Returns:
        A :class:`GanRun`.
    """
    frames = np.asarray(frames)
    labels = np.asarray(labels, dtype=np.int32)
    if frames.ndim != 4 or frames.dtype != np.uint8 or frames.shape[1] != frames.shape[2]:
        raise ValueError(f"expected uint8 square frames (n, s, s, 3), got {frames.dtype} {frames.shape}")
    if len(frames) != len(labels):
        raise ValueError(f"{len(frames)} frames but {len(labels)} labels")
    num_classes = int(labels.max()) + 1 if num_classes is None else int(num_classes)
    image_size = frames.shape[1]
    set_seed(seed)
    generator = build_generator(num_classes=num_classes, latent_dim=latent_dim, image_size=image_size,
                                base_filters=base_filters)
    discriminator = build_discriminator(num_classes=num_classes, image_size=image_size, base_filters=base_filters)
    gan = ConditionalGAN(generator, discriminator, seed=seed)
    gan.compile(d_optimizer=keras.optimizers.Adam(learning_rate, beta_1=0.5),
                g_optimizer=keras.optimizers.Adam(learning_rate, beta_1=0.5))
    ds = (tf.data.Dataset.from_tensor_slices((frames, labels))
          .shuffle(len(frames), seed=seed, reshuffle_each_iteration=True)
          .batch(batch_size, drop_remainder=len(frames) >= batch_size)
          .prefetch(tf.data.AUTOTUNE))
    start = time.perf_counter()
    history = gan.fit(ds, epochs=epochs, verbose=verbose, shuffle=False)  # ds is shuffled already
    seconds = time.perf_counter() - start
    return GanRun(generator, discriminator, {k: [float(v) for v in vs] for k, vs in history.history.items()}, seconds)


def sample_frames(generator: keras.Model, *, labels: Sequence[int] | np.ndarray, seed: int = 27,
                  batch_size: int = 256) -> np.ndarray:
    """Generate one frame per label; the same seed gives the same frames.

    Args:
        generator: From :func:`build_generator` / :func:`train_dcgan`.
        labels: int ``(n,)``: the class of each frame to generate.
        seed: Seed of the noise vectors.
        batch_size: Frames generated per call.

    Returns:
        uint8 ``(n, image_size, image_size, 3)``.
    """
    labels = np.asarray(labels, dtype=np.int32).reshape(-1)
    latent_dim = int(generator.inputs[0].shape[-1])
    z = np.random.default_rng(seed).standard_normal((len(labels), latent_dim)).astype(np.float32)
    out = np.empty((len(labels), *generator.output_shape[1:]), np.uint8)
    for start in range(0, len(labels), batch_size):
        stop = start + batch_size
        frames = np.asarray(generator([z[start:stop], labels[start:stop]], training=False))
        out[start:stop] = np.clip(np.rint((frames + 1.0) * 127.5), 0, 255).astype(np.uint8)
    return out


def build_augmentation_classifier(*, num_classes: int, image_size: int = 32, filters: Sequence[int] = (16, 32),
                           dropout: float = 0.3) -> keras.Model:
    """The small frame classifier of the experiment: uint8 frame -> class probabilities.

    Rescaling(1/255) -> [Conv2D(f, 3x3, relu) -> MaxPool(2)] per ``filters`` ->
    GlobalAveragePooling -> Dropout -> Dense softmax.

    Returns:
        A model mapping uint8 ``(batch, image_size, image_size, 3)`` to ``(batch, num_classes)``.
    """
    frames = keras.Input((image_size, image_size, 3), dtype="uint8", name="frame")
    x = layers.Rescaling(1.0 / 255)(frames)
    for f in filters:
        x = layers.Conv2D(f, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Dropout(dropout)(layers.GlobalAveragePooling2D()(x))
    return keras.Model(frames, layers.Dense(num_classes, activation="softmax")(x), name="frame_classifier")


class _FrameClassifierTrainer:
    """One compiled frame classifier, reset to a seed's fresh state before every fit.

    Every arm and seed trains a model that starts exactly where a newly built one would
    (weights, dropout seeds, optimizer state), but Keras traces the train step only once:
    on a CPU a trace costs seconds, more than training on a few hundred frames.
    """

    def __init__(self, *, num_classes: int, image_size: int, batch_size: int, learning_rate: float = 1e-3):
        self.num_classes, self.image_size, self.batch_size = num_classes, image_size, batch_size
        self.model = build_augmentation_classifier(num_classes=num_classes, image_size=image_size)
        self.model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy")
        self.model.optimizer.build(self.model.trainable_variables)
        self._optimizer_start = [v.numpy() for v in self.model.optimizer.variables]

    def fit(self, frames: np.ndarray, labels: np.ndarray, *, epochs: int, seed: int) -> keras.Model:
        set_seed(seed)
        fresh = build_augmentation_classifier(num_classes=self.num_classes, image_size=self.image_size)
        for variable, value in zip(self.model.variables, fresh.variables, strict=True):
            variable.assign(value)
        for variable, value in zip(self.model.optimizer.variables, self._optimizer_start, strict=True):
            variable.assign(value)
        ds = (tf.data.Dataset.from_tensor_slices((frames, labels.astype(np.int32)))
              .shuffle(len(frames), seed=seed, reshuffle_each_iteration=True)
              .batch(self.batch_size, drop_remainder=len(frames) >= self.batch_size)  # one batch shape, one trace
              .prefetch(tf.data.AUTOTUNE))
        self.model.fit(ds, epochs=epochs, verbose=0, shuffle=False)  # ds is shuffled already
        return self.model


def _clip_accuracy(probabilities: np.ndarray, labels: np.ndarray, clip_ids: np.ndarray) -> float:
    """Accuracy after averaging the frame probabilities of each clip."""
    clips, inverse = np.unique(clip_ids, return_inverse=True)
    summed = np.zeros((len(clips), probabilities.shape[1]))
    np.add.at(summed, inverse, probabilities)
    clip_labels = np.zeros(len(clips), dtype=np.int64)
    clip_labels[inverse] = labels
    return float((summed.argmax(axis=1) == clip_labels).mean())


def summarize_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation over seeds of every arm (rows in first-seen order).

    Args:
        runs: One row per (arm, seed) with columns ``arm, seed, train_frames, accuracy, clip_accuracy``.

    Returns:
        ``arm, train_frames, accuracy_mean, accuracy_std, clip_accuracy_mean,
        clip_accuracy_std, seeds``; std with ddof=1 (NaN for one seed).
    """
    return (runs.groupby("arm", sort=False)
            .agg(train_frames=("train_frames", "first"), accuracy_mean=("accuracy", "mean"),
                 accuracy_std=("accuracy", "std"), clip_accuracy_mean=("clip_accuracy", "mean"),
                 clip_accuracy_std=("clip_accuracy", "std"), seeds=("seed", "count"))
            .reset_index())


@dataclass
class GanExperiment:
    """Result of :func:`gan_augmentation_experiment`.

    Attributes:
        summary: One row per arm: ``arm, train_frames, accuracy_mean, accuracy_std,
            clip_accuracy_mean, clip_accuracy_std, seeds`` (std over seeds, ddof=1; NaN with one seed).
        runs: One row per (arm, seed): ``arm, seed, train_frames, accuracy, clip_accuracy``.
        gan_runs: The :class:`GanRun` of every seed (for sample grids and loss curves).
        seconds: Wall time of the whole experiment.
    """

    summary: pd.DataFrame
    runs: pd.DataFrame
    gan_runs: list[GanRun] = field(repr=False)
    seconds: float


def gan_augmentation_experiment(train_frames: np.ndarray, train_labels: np.ndarray, test_frames: np.ndarray,
                                test_labels: np.ndarray, *, num_classes: int, test_clip_ids: np.ndarray | None = None,
                                seeds: Sequence[int] = (0, 1, 2), gan_epochs: int = 30, classifier_epochs: int = 20,
                                synthetic_ratio: float = 1.0, batch_size: int = 32, latent_dim: int = 64,
                                base_filters: int = 16) -> GanExperiment:
    """Does adding conditional-DCGAN frames to the training set help a frame classifier?

    For every seed: train a DCGAN on the real training frames only; generate
    ``synthetic_ratio`` x as many frames, with the same class counts; train
    :func:`build_augmentation_classifier` (same seed, same epochs) on real frames (``real``),
    every real frame twice (``real_x2``: as many steps as the next arm), real + generated
    (``real+gan``) and generated only (``gan_only``); test each on the real test frames.
    Pass frames of held-out *groups* as the test set (e.g. via
    :func:`helpers.experiment.protocol_split` and :func:`frames_from_clips`): the GAN
    only ever sees the training frames.

    Args:
        train_frames, train_labels: uint8 ``(n, s, s, 3)`` and int ``(n,)``.
        test_frames, test_labels: uint8 ``(m, s, s, 3)`` and int ``(m,)``.
        num_classes: Classes.
        test_clip_ids: int ``(m,)`` source clip of each test frame; adds clip-level
            accuracy (frame probabilities averaged per clip). None: clip columns are NaN.
        seeds: One GAN and four classifiers per seed.
        gan_epochs, classifier_epochs: Training lengths.
        synthetic_ratio: Generated frames per real training frame.
        batch_size: Of the GAN and the classifiers.
        latent_dim, base_filters: Of the GAN.

    Returns:
        A :class:`GanExperiment`.
    """
    start = time.perf_counter()
    train_labels = np.asarray(train_labels, dtype=np.int64)
    test_labels = np.asarray(test_labels, dtype=np.int64)
    rows, gan_runs = [], []
    classifier = _FrameClassifierTrainer(num_classes=num_classes, image_size=train_frames.shape[1],
                                         batch_size=batch_size)
    for seed in seeds:
        gan_run = train_dcgan(train_frames, train_labels, num_classes=num_classes, epochs=gan_epochs,
                              batch_size=batch_size, seed=seed, latent_dim=latent_dim, base_filters=base_filters)
        gan_runs.append(gan_run)
        counts = np.bincount(train_labels, minlength=num_classes)
        synthetic_labels = np.repeat(np.arange(num_classes), np.rint(counts * synthetic_ratio).astype(int))
        synthetic = sample_frames(gan_run.generator, labels=synthetic_labels, seed=seed + 10_000)
        arms = {
            "real": (train_frames, train_labels),
            "real_x2": (np.concatenate([train_frames, train_frames]), np.concatenate([train_labels, train_labels])),
            "real+gan": (np.concatenate([train_frames, synthetic]), np.concatenate([train_labels, synthetic_labels])),
            "gan_only": (synthetic, synthetic_labels),
        }
        for arm, (frames, labels) in arms.items():
            model = classifier.fit(frames, labels, epochs=classifier_epochs, seed=seed)
            probabilities = model.predict(test_frames, batch_size=256, verbose=0)
            clip_acc = (float("nan") if test_clip_ids is None
                        else _clip_accuracy(probabilities, test_labels, np.asarray(test_clip_ids)))
            rows.append({"arm": arm, "seed": seed, "train_frames": len(frames),
                         "accuracy": float((probabilities.argmax(axis=1) == test_labels).mean()),
                         "clip_accuracy": clip_acc})
    runs = pd.DataFrame(rows)
    return GanExperiment(summarize_runs(runs), runs, gan_runs, time.perf_counter() - start)
