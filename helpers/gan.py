"""A small class-conditional DCGAN over single frames (papers 002, 003).

Papers 002 and 003 credit GANs with "improving training datasets" by augmentation;
notebook 05 measures it on our data with the networks of this module: it takes a few
frames of every training clip (32x32 motion frames), trains this conditional DCGAN
(Radford et al., 2016; the class label enters both networks as an embedding, Mirza &
Osindero, 2014) on them with :func:`train_dcgan`, so every generated frame has a label,
and draws labelled frames with :func:`sample_frames`. At 32x32 with 16 base filters, 30
epochs over the embedded dataset's 1,440 training frames take about 1.5 minutes on a
shared 2-core CPU. The experiment itself (which classifier, which arms, the table) lives
in notebook 05.

Frames are uint8 ``(num_frames, image_size, image_size, 3)`` everywhere outside the
networks; the GAN works in [-1, 1].
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from helpers.config import set_seed


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
