"""Model builders, and saving/loading models together with their class names.

Every model takes the raw uint8 RGB clips that :func:`helpers.data.create_dataset`
returns, shape ``(batch, num_frames, image_size, image_size, 3)``: scaling to [0, 1]
is the first layer, a :class:`ClipRescaling` (a Keras ``Rescaling`` that also records
the class names, frame count and image size the model expects). It has no
parameters, so the paper's counts hold, and a saved ``.keras`` file carries
everything inference needs. The one exception is :func:`build_two_stream`, which also
takes the clip's optical flow (``{"clip": ..., "flow": ...}``, see :mod:`helpers.flow`).

Builders: paper 001 (:func:`build_lrcn`, :func:`build_convlstm`), paper 000
(:func:`build_cnn`, :func:`build_rnn`, :func:`build_hybrid`), and the families of
notebook 05 (:func:`build_c3d`, :func:`build_two_stream`, :func:`build_transfer` over
:func:`build_frame_encoder`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
from keras import layers

from helpers.atomic import atomic_write
from helpers.layers import (
    ClipRescaling,
    FoldedTimeDistributed,
    FusedConvLSTM2D,
    TemporalCentering,
    WeightedAverage,
    WeightedConcat,
)

RESCALING_LAYER = "rescaling"


@dataclass(frozen=True)
class ModelSpec:
    """What a model expects and predicts."""

    class_names: tuple[str, ...]
    num_frames: int
    image_size: int


def _class_names(num_classes: int, class_names: Sequence[str] | None) -> list[str]:
    if class_names is None:
        return [f"class_{i}" for i in range(num_classes)]
    if len(class_names) != num_classes:
        raise ValueError(f"got {len(class_names)} class names for num_classes={num_classes}")
    return list(class_names)


#: Name of every model's uint8 clip input (the two-stream model also has :data:`FLOW_INPUT`).
CLIP_INPUT = "clip"


def clip_input(*, num_classes: int, num_frames: int, image_size: int, class_names: Sequence[str] | None = None
               ) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """The shared model head: a uint8 clip input and its [0, 1] float rescaling.

    Returns:
        ``(inputs, x)``: inputs of shape ``(batch, num_frames, image_size, image_size, 3)``
        uint8, and x the same shape in float32.
    """
    inputs = keras.Input(shape=(num_frames, image_size, image_size, 3), dtype="uint8", name=CLIP_INPUT)
    x = ClipRescaling(class_names=_class_names(num_classes, class_names), num_frames=num_frames,
                      image_size=image_size, name=RESCALING_LAYER)(inputs)
    return inputs, x


def model_spec(model: keras.Model) -> ModelSpec:
    """Class names, frame count and image size a model expects (from its ClipRescaling layer)."""
    try:
        layer = model.get_layer(RESCALING_LAYER)
    except ValueError:
        layer = None
    if not isinstance(layer, ClipRescaling):
        raise ValueError(f"model {model.name!r} has no ClipRescaling layer named {RESCALING_LAYER!r}; "
                         "build it with a helpers.models builder")
    return ModelSpec(tuple(layer.class_names), layer.num_frames, layer.image_size)


def set_class_names(model: keras.Model, class_names: Sequence[str]) -> None:
    """Record the labels of a model's outputs (saved with it)."""
    num_outputs = model.output_shape[-1]
    if len(class_names) != num_outputs:
        raise ValueError(f"model {model.name!r} has {num_outputs} outputs but {len(class_names)} class names")
    model.get_layer(RESCALING_LAYER).class_names = [str(c) for c in class_names]


def save_model(model: keras.Model, path: str | os.PathLike, *, class_names: Sequence[str] | None = None) -> Path:
    """Save a model as ``.keras`` with its class names, atomically (:func:`helpers.atomic.atomic_write`)."""
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"{path}: model files must end in .keras")
    if class_names is not None:
        set_class_names(model, class_names)
    model_spec(model)  # refuse to save a model that inference could not use
    with atomic_write(path, suffix=".keras") as tmp:  # Keras requires the .keras ending
        model.save(tmp)
    return path


def load_model(path: str | os.PathLike, *, compile: bool = True) -> keras.Model:
    """Load a ``.keras`` model saved by :func:`save_model`, with Keras' safe mode on.

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: The file is not a usable model (message names the file).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: model file does not exist (train one with notebooks/01_lrcn.ipynb "
                                "or `make run`)")
    try:
        model = keras.saving.load_model(path, compile=compile, safe_mode=True)
    except Exception as err:  # keras raises many types for a bad zip/config
        raise ValueError(f"{path}: not a loadable .keras model ({type(err).__name__}: {err})") from err
    model_spec(model)
    return model



# --- Issue 8: a 3D CNN, a two-stream network and transfer learning ---
# Paper 004 (Figures 3-4) names 3D CNNs and two-stream (appearance + optical flow) networks
# as the main video architectures; papers 002 and 003 add transfer learning. These builders
# keep the project's contract: a uint8 clip input named "clip" whose first layer is a
# ClipRescaling, so model_spec(), save_model() and load_model() work on every one.


def build_c3d(*, num_classes: int, num_frames: int = 20, image_size: int = 64,
              class_names: Sequence[str] | None = None, filters: Sequence[int] = (8, 16, 32, 64),
              batch_norm: bool = True, pooling: str = "avg", frames: str = "raw", dropout: float = 0.25
              ) -> keras.Model:
    """A small C3D-style 3D CNN (paper 004, Figure 3): convolutions over space *and* time.

    (``frames``) -> [Conv3D(f, 3x3x3) -> (BatchNorm) -> ReLU -> MaxPool3D] for each f in
    ``filters``, where the first pool is (1, 2, 2) (C3D's pool1: keep the time
    resolution early so the next layers still see motion) and the others (2, 2, 2), no
    pool after the last convolution -> global pooling over time and space -> Dropout ->
    Dense softmax. Pools use ``padding="same"`` so any ``num_frames`` works. 74,224
    parameters with 8 classes and the defaults.

    Args:
        num_classes: Output classes.
        num_frames: Frames per clip.
        image_size: Frame height and width.
        class_names: Optional labels, stored in the model.
        filters: Filters of each Conv3D block (C3D has 64, 128, 256, 256, 512: far too big
            for a CPU; these keep its shape at ~1/30 of the width).
        batch_norm: BatchNormalization after every convolution (C3D had none; from scratch
            on a few hundred clips it trains much faster with it).
        pooling: ``"avg"`` or ``"max"`` global pooling at the end.
        frames: ``"raw"``, ``"centered"`` or ``"motion"`` input frames (:class:`TemporalCentering`).
        dropout: Dropout rate before the classifier.

    Returns:
        A model mapping uint8 ``(batch, num_frames, image_size, image_size, 3)`` to class
        probabilities ``(batch, num_classes)``. With the defaults the feature maps are
        ``(batch, 20, 64, 64, 8) -> (batch, 20, 32, 32, 16) -> (batch, 10, 16, 16, 32)
        -> (batch, 5, 8, 8, 64)``.
    """
    if pooling not in ("avg", "max"):
        raise ValueError(f"pooling must be 'avg' or 'max', got {pooling!r}")
    inputs, x = clip_input(num_classes=num_classes, num_frames=num_frames, image_size=image_size,
                           class_names=class_names)
    x = _frames(x, frames=frames, prefix="c3d")
    for i, f in enumerate(filters, start=1):
        x = layers.Conv3D(f, (3, 3, 3), padding="same", use_bias=not batch_norm, name=f"conv{i}")(x)
        if batch_norm:
            # momentum 0.9, not Keras' 0.99: with ~36 steps an epoch the moving statistics
            # otherwise lag for several epochs, validation runs on stale ones and early
            # stopping keeps a near-chance model
            x = layers.BatchNormalization(momentum=0.9, name=f"bn{i}")(x)
        x = layers.ReLU(name=f"relu{i}")(x)
        if i < len(filters):
            pool = (1, 2, 2) if i == 1 else (2, 2, 2)
            x = layers.MaxPooling3D(pool, padding="same", name=f"pool{i}")(x)
    pool_layer = layers.GlobalAveragePooling3D if pooling == "avg" else layers.GlobalMaxPooling3D
    x = pool_layer(name="global_pool")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name="c3d")


FLOW_INPUT = "flow"


def flow_input(*, num_frames: int, image_size: int) -> keras.KerasTensor:
    """The two-stream model's second input: dense optical flow, float, named ``"flow"``.

    Returns:
        An input of shape ``(batch, num_frames - 1, image_size, image_size, 2)``
        (:func:`helpers.flow.create_flow_dataset`; float16 arrays are cast to float32).
    """
    return keras.Input(shape=(num_frames - 1, image_size, image_size, 2), dtype="float32", name=FLOW_INPUT)


def flow_features(flow: keras.KerasTensor, *, image_size: int, flow_size: int = 32,
                  filters: Sequence[int] = (16, 32, 64), units: int = 32, dropout: float = 0.25
                  ) -> keras.KerasTensor:
    """The motion stream (Simonyan & Zisserman's temporal stream): a 2D CNN on stacked flow.

    Per flow field: area-resize to ``flow_size x flow_size`` and rescale the displacements
    by ``flow_size / image_size`` (they stay in pixels per frame, now of the smaller
    image). Then the ``num_frames - 1`` fields are stacked along channels,
    ``(flow_size, flow_size, 2 * (num_frames - 1))`` in time order (dx, dy of step 0,
    then of step 1 ...), so the first convolution sees all the motion of the clip and its
    direction: a clip played backwards has the same frames but negated, reversed flow.
    [Conv2D(f, 3x3, relu) -> MaxPool(2)] for each f -> Flatten -> Dropout -> Dense(units, relu).
    Layers are named ``motion_*``.

    Args:
        flow: ``(batch, num_frames - 1, image_size, image_size, 2)`` float.
        image_size: Side of the flow fields (the clips' image size).
        flow_size: Side the flow is downscaled to before the convolutions.
        filters: Filters of each Conv2D block.
        units: Width of the feature vector.
        dropout: Dropout rate before the Dense.

    Returns:
        Features ``(batch, units)``.
    """
    steps = flow.shape[1]
    x = FoldedTimeDistributed(layers.Resizing(flow_size, flow_size, interpolation="area"),
                              name="motion_downscale")(flow)
    x = layers.Rescaling(flow_size / image_size, name="motion_rescale")(x)
    x = layers.Permute((2, 3, 1, 4), name="motion_time_last")(x)  # (batch, s, s, steps, 2)
    x = layers.Reshape((flow_size, flow_size, 2 * steps), name="motion_stack")(x)
    for i, f in enumerate(filters, start=1):
        x = layers.Conv2D(f, (3, 3), padding="same", activation="relu", name=f"motion_conv{i}")(x)
        x = layers.MaxPooling2D((2, 2), name=f"motion_pool{i}")(x)
    x = layers.Flatten(name="motion_flatten")(x)
    if dropout:
        x = layers.Dropout(dropout, name="motion_dropout")(x)
    return layers.Dense(units, activation="relu", name="motion_features")(x)


def build_two_stream(*, num_classes: int, num_frames: int = 20, image_size: int = 64,
                     class_names: Sequence[str] | None = None, alpha: float = 0.5, frame_size: int = 32,
                     frame_filters: Sequence[int] = (8, 16), frame_units: int = 32, frames: str = "raw",
                     flow_size: int = 32, flow_filters: Sequence[int] = (16, 32, 64), flow_units: int = 32,
                     dropout: float = 0.25) -> keras.Model:
    """A two-stream network (paper 004, Figure 4): appearance from RGB frames, motion from
    optical flow, fused late.

    * Appearance stream: :func:`cnn_features` on the RGB frames (a per-frame 2D CNN,
      features averaged over time; layers ``cnn_*``) -> Dense softmax ``appearance_scores``.
      It sees the frames, never their order.
    * Motion stream: :func:`flow_features` on the stacked optical flow (layers
      ``motion_*``) -> Dense softmax ``motion_scores``.
    * Late fusion: ``alpha * appearance + (1 - alpha) * motion`` class probabilities
      (:class:`WeightedAverage`, layer ``fusion``), trained end to end.

    Inputs are a dict (Keras matches them by name)::

        {"clip": uint8 (batch, num_frames, image_size, image_size, 3),   # helpers.data.create_dataset
         "flow": float (batch, num_frames - 1, image_size, image_size, 2)}  # helpers.flow.create_flow_dataset

    :func:`helpers.training.train`, :func:`helpers.evaluation.evaluate` and
    :func:`helpers.experiment.run_experiment` take that dict in place of the clip array.

    Args:
        num_classes: Output classes.
        num_frames: Frames per clip (the flow has one fewer).
        image_size: Frame height and width (of the clips and of the flow).
        class_names: Optional labels, stored in the model.
        alpha: Weight of the appearance stream's probabilities, in [0, 1].
        frame_size, frame_filters, frame_units, frames: The appearance stream
            (``frame_size``, ``filters``, ``units``, ``frames`` of :func:`cnn_features`).
        flow_size, flow_filters, flow_units: The motion stream (:func:`flow_features`).
        dropout: Dropout rate of both streams.

    Returns:
        A model mapping the dict above to class probabilities ``(batch, num_classes)``.
    """
    fusion = WeightedAverage(alpha=alpha, name="fusion")  # validates alpha before any layer is built
    clip, x = clip_input(num_classes=num_classes, num_frames=num_frames, image_size=image_size,
                         class_names=class_names)
    flow = flow_input(num_frames=num_frames, image_size=image_size)
    appearance = cnn_features(x, frame_size=frame_size, filters=frame_filters, units=frame_units, dropout=dropout,
                              frames=frames)
    appearance = layers.Dense(num_classes, activation="softmax", name="appearance_scores")(appearance)
    motion = flow_features(flow, image_size=image_size, flow_size=flow_size, filters=flow_filters,
                           units=flow_units, dropout=dropout)
    motion = layers.Dense(num_classes, activation="softmax", name="motion_scores")(motion)
    outputs = fusion([appearance, motion])
    return keras.Model({CLIP_INPUT: clip, FLOW_INPUT: flow}, outputs, name="two_stream")


# Transfer learning (papers 002-003): a frame CNN trained on one task, reused on another.
ENCODER_LAYER = "frame_encoder"
ENCODER_ARCHITECTURES = ("small", "mobilenet_v2")


def _weights_file(weights: str | os.PathLike | None) -> Path | str | None:
    """None, ``"imagenet"`` (passed to keras.applications), or an existing local file."""
    if weights is None or (isinstance(weights, str) and weights == "imagenet"):
        return weights
    path = Path(weights).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"{path}: weights file does not exist (pass weights=None to start from random "
                                "weights, or the path of a local weights file; nothing is downloaded)")
    return path


def build_frame_encoder(*, image_size: int = 64, architecture: str = "small", frame_size: int | None = None,
                        filters: Sequence[int] = (16, 32, 64), units: int = 64,
                        weights: str | os.PathLike | None = None, mobilenet_alpha: float = 0.35,
                        name: str = "encoder") -> keras.Model:
    """A frame-level 2D CNN that turns one frame into a feature vector (for transfer learning).

    * ``"small"``: [Resizing(frame_size)] -> [Conv2D(f, 3x3, relu) -> MaxPool(2)] for
      each f in ``filters`` -> Flatten -> Dense(units, relu). 89,184 parameters with the
      defaults. ``weights`` is a file saved by ``encoder.save_weights(...)``
      (``.weights.h5``) from an encoder built with the same arguments.
    * ``"mobilenet_v2"``: [Resizing(frame_size)] -> scaling to [-1, 1] ->
      ``keras.applications.MobileNetV2(include_top=False, pooling="avg",
      alpha=mobilenet_alpha)``; ``units`` and ``filters`` are unused. ``weights`` is a local
      ImageNet weights file as keras.applications names them (e.g.
      ``mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5``; the alpha
      must match) or a file saved with ``save_weights`` from the backbone;
      ``"imagenet"`` makes Keras download the file (needs a network, unless Keras'
      cache ``~/.keras/models`` already has it). ImageNet weights were trained on frames
      of 96-224 px: ``frame_size=96`` upscales 64 px frames to that (at a cost).

    Args:
        image_size: Side of the frames given to the encoder.
        architecture: ``"small"`` or ``"mobilenet_v2"``.
        frame_size: Side the frames are resized to first (area when shrinking, bilinear
            when enlarging). None: 32 for ``"small"`` (cheap on a CPU, as in
            :func:`cnn_features`), ``image_size`` (no resizing) for ``"mobilenet_v2"``.
        filters, units: The small encoder's Conv2D filters and feature width.
        weights: None (random initialisation), a local weights file (see above) or, for
            MobileNetV2, ``"imagenet"``.
        mobilenet_alpha: MobileNetV2's width multiplier (0.35, 0.5, 0.75, 1.0, 1.3 or 1.4).
        name: Name of the model.

    Returns:
        A model mapping float frames in [0, 1] ``(batch, image_size, image_size, 3)`` to
        features ``(batch, features)``: ``units`` wide, or 1280 for MobileNetV2 (alpha <= 1).

    Raises:
        FileNotFoundError: ``weights`` names a file that does not exist.
        ValueError: Unknown architecture, or a weights file that does not fit the encoder.
    """
    if architecture not in ENCODER_ARCHITECTURES:
        raise ValueError(f"architecture must be one of {ENCODER_ARCHITECTURES}, got {architecture!r}")
    weights = _weights_file(weights)
    if weights == "imagenet" and architecture != "mobilenet_v2":
        raise ValueError("weights='imagenet' exists only for architecture='mobilenet_v2'")
    inputs = keras.Input(shape=(image_size, image_size, 3), name="frame")
    x = inputs
    size = frame_size or (32 if architecture == "small" else image_size)
    if size != image_size:
        x = layers.Resizing(size, size, interpolation="area" if size < image_size else "bilinear",
                            name="resize")(x)
    if architecture == "small":
        for i, f in enumerate(filters, start=1):
            x = layers.Conv2D(f, (3, 3), padding="same", activation="relu", name=f"conv{i}")(x)
            x = layers.MaxPooling2D((2, 2), name=f"pool{i}")(x)
        x = layers.Flatten(name="flatten")(x)
        outputs = layers.Dense(units, activation="relu", name="features")(x)
        encoder = keras.Model(inputs, outputs, name=name)
        if weights is not None:
            try:
                encoder.load_weights(weights)
            except Exception as err:  # keras raises several types for a mismatched file
                raise ValueError(f"{weights}: cannot load into this encoder ({type(err).__name__}: {err})") from err
        return encoder
    x = layers.Rescaling(2.0, offset=-1.0, name="to_minus_one_one")(x)  # MobileNetV2 expects [-1, 1]
    try:
        backbone = keras.applications.MobileNetV2(input_shape=(size, size, 3), include_top=False, pooling="avg",
                                                  alpha=mobilenet_alpha,
                                                  weights=None if weights is None else str(weights))
    except Exception as err:  # keras raises several types for a mismatched file or a bad alpha
        raise ValueError(f"cannot build MobileNetV2 with alpha={mobilenet_alpha} and weights={weights} "
                         f"({type(err).__name__}: {err})") from err
    return keras.Model(inputs, backbone(x), name=name)


def build_frame_classifier(*, encoder: keras.Model, num_classes: int) -> keras.Model:
    """A frame classifier around ``encoder`` (shared, not copied): what pretraining trains.

    uint8 frames -> Rescaling(1/255) -> ``encoder`` -> Dense softmax. Training it trains
    ``encoder`` in place (see :func:`helpers.training.pretrain_frame_encoder`).

    Returns:
        A model mapping uint8 ``(batch, image_size, image_size, 3)`` to class
        probabilities ``(batch, num_classes)``.
    """
    inputs = keras.Input(shape=encoder.input_shape[1:], dtype="uint8", name="frame")
    x = layers.Rescaling(1.0 / 255, name="rescaling")(inputs)
    outputs = layers.Dense(num_classes, activation="softmax", name="classifier")(encoder(x))
    return keras.Model(inputs, outputs, name="frame_classifier")


def _sublayers(layer: keras.layers.Layer):
    """Every layer nested inside ``layer`` (models inside models included)."""
    for sub in getattr(layer, "layers", ()):
        yield sub
        yield from _sublayers(sub)


def set_encoder_trainable(model: keras.Model, trainable: bool = True, *, freeze_batch_norm: bool = True
                          ) -> keras.Model:
    """Freeze or unfreeze the frame encoder of a :func:`build_transfer` model (fine-tuning).

    Recompile afterwards: :func:`helpers.training.train` compiles on every call, so train
    again with a low ``learning_rate`` (e.g. 1e-4) to fine-tune. BatchNormalization
    layers stay frozen (inference mode) unless ``freeze_batch_norm=False``: updating
    their statistics on a small dataset undoes the pretraining (Keras' fine-tuning guide).

    Args:
        model: A model from :func:`build_transfer`.
        trainable: True to fine-tune the encoder, False to freeze it.
        freeze_batch_norm: Keep BatchNormalization layers frozen when unfreezing.

    Returns:
        ``model`` (changed in place).
    """
    wrapper = model.get_layer(ENCODER_LAYER)
    wrapper.trainable = bool(trainable)
    if trainable and freeze_batch_norm:
        for layer in _sublayers(wrapper.layer):
            if isinstance(layer, layers.BatchNormalization):
                layer.trainable = False
    return model


def build_transfer(*, encoder: keras.Model, num_classes: int, num_frames: int = 20, image_size: int = 64,
                   class_names: Sequence[str] | None = None, trainable: bool = False, units: int = 32,
                   dropout: float = 0.25) -> keras.Model:
    """Transfer learning (papers 002-003): a pretrained frame encoder reused on every frame,
    plus a new temporal head.

    FoldedTimeDistributed(copy of ``encoder``) (layer ``frame_encoder``) -> Dropout ->
    LSTM(units) -> Dense softmax. The encoder is copied (architecture and current
    weights), so one pretrained encoder can seed several models (frozen, fine-tuned)
    and is never changed by training them. The LSTM head sees frame order, which a
    frame-level pretraining task never needed (e.g. SitDown vs StandUp).

    Typical use::

        encoder = build_frame_encoder(image_size=64)
        pretrain_frame_encoder(encoder, (clips_a, labels_a), num_classes=4, ...)  # task A
        model = build_transfer(encoder=encoder, num_classes=8)                       # frozen
        train(model, (clips_b, labels_b), ...)                                       # trains the head
        set_encoder_trainable(model, True)
        train(model, (clips_b, labels_b), learning_rate=1e-4, ...)                   # fine-tunes all

    Args:
        encoder: From :func:`build_frame_encoder` (pretrained or not); its input must be
            ``(image_size, image_size, 3)``.
        num_classes: Output classes of the new task.
        num_frames: Frames per clip.
        image_size: Frame height and width.
        class_names: Optional labels, stored in the model.
        trainable: False freezes the encoder (only the head learns); see
            :func:`set_encoder_trainable` to change it later.
        units: LSTM units.
        dropout: Dropout rate on the per-frame features.

    Returns:
        A model mapping uint8 ``(batch, num_frames, image_size, image_size, 3)`` to class
        probabilities ``(batch, num_classes)``.
    """
    if tuple(encoder.input_shape[1:]) != (image_size, image_size, 3):
        raise ValueError(f"encoder {encoder.name!r} takes frames {encoder.input_shape[1:]}, "
                         f"not ({image_size}, {image_size}, 3)")
    copy = keras.models.clone_model(encoder)
    copy.set_weights(encoder.get_weights())
    inputs, x = clip_input(num_classes=num_classes, num_frames=num_frames, image_size=image_size,
                           class_names=class_names)
    x = FoldedTimeDistributed(copy, name=ENCODER_LAYER)(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    x = layers.LSTM(units, name="lstm")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="classifier")(x)
    model = keras.Model(inputs, outputs, name="transfer")
    return set_encoder_trainable(model, trainable)


# --- BEGIN exported from the notebooks' #@save cells by `make export`: edit the notebooks, not this block ---

# from notebooks/01_lrcn.ipynb
def build_lrcn(*, num_classes: int, num_frames: int = 20, image_size: int = 64,
               class_names: Sequence[str] | None = None) -> keras.Model:
    """HiSVidClassifier (paper 001, Figure 8, notebook 01): an LRCN.

    TimeDistributed [Conv2D(16) -> MaxPool(4) -> Dropout(0.25) -> Conv2D(32) -> MaxPool(4)
    -> Dropout(0.25) -> Conv2D(64) -> MaxPool(2) -> Dropout(0.25) -> Conv2D(64) -> MaxPool(2)
    -> Flatten] -> LSTM(32) -> Dense softmax. 73,060 parameters with 4 classes.

    Args:
        num_classes: Output classes.
        num_frames: Frames per clip.
        image_size: Frame height and width (64 in the paper).
        class_names: Optional labels, stored in the model.

    Returns:
        A model mapping uint8 ``(batch, num_frames, image_size, image_size, 3)`` to
        class probabilities ``(batch, num_classes)``.
    """
    inputs, x = clip_input(num_classes=num_classes, num_frames=num_frames, image_size=image_size,
                           class_names=class_names)
    # feature extractor, on every frame
    x = FoldedTimeDistributed(layers.Conv2D(16, (3, 3), padding="same", activation="relu"))(x)
    x = FoldedTimeDistributed(layers.MaxPooling2D((4, 4)))(x)
    x = FoldedTimeDistributed(layers.Dropout(0.25))(x)
    x = FoldedTimeDistributed(layers.Conv2D(32, (3, 3), padding="same", activation="relu"))(x)
    x = FoldedTimeDistributed(layers.MaxPooling2D((4, 4)))(x)
    x = FoldedTimeDistributed(layers.Dropout(0.25))(x)
    x = FoldedTimeDistributed(layers.Conv2D(64, (3, 3), padding="same", activation="relu"))(x)
    x = FoldedTimeDistributed(layers.MaxPooling2D((2, 2)))(x)
    x = FoldedTimeDistributed(layers.Dropout(0.25))(x)
    x = FoldedTimeDistributed(layers.Conv2D(64, (3, 3), padding="same", activation="relu"))(x)
    x = FoldedTimeDistributed(layers.MaxPooling2D((2, 2)))(x)
    x = FoldedTimeDistributed(layers.Flatten(), name="frame_features")(x)  # (batch, num_frames, 64)
    # classifier, over the sequence of frame features
    x = layers.LSTM(32, name="lstm")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name="lrcn")

# from notebooks/02_convlstm.ipynb
def build_convlstm(*, num_classes: int, num_frames: int = 20, image_size: int = 64,
                   class_names: Sequence[str] | None = None, fast: bool = True) -> keras.Model:
    """The ConvLSTM baseline of paper 001 (notebook 02; 44,524 parameters with 4 classes).

    ConvLSTM2D with 4, 8, 14, 16 filters (3x3, tanh, recurrent_dropout 0.2,
    return_sequences), each followed by MaxPooling3D((1, 2, 2)) and, except the last,
    TimeDistributed(Dropout(0.2)); Flatten; Dense softmax.

    Args:
        num_classes: Output classes.
        num_frames: Frames per clip.
        image_size: Frame height and width (64 in the paper).
        class_names: Optional labels, stored in the model.
        fast: Use :class:`helpers.layers.FusedConvLSTM2D` (same weights and outputs,
            faster); False uses ``keras.layers.ConvLSTM2D`` itself (the benchmark compares the two).

    Returns:
        A model mapping uint8 ``(batch, num_frames, image_size, image_size, 3)`` to
        class probabilities ``(batch, num_classes)``.
    """
    conv_lstm = FusedConvLSTM2D if fast else layers.ConvLSTM2D
    inputs, x = clip_input(num_classes=num_classes, num_frames=num_frames, image_size=image_size,
                           class_names=class_names)
    for i, filters in enumerate((4, 8, 14, 16)):
        x = conv_lstm(filters, (3, 3), activation="tanh", data_format="channels_last", recurrent_dropout=0.2,
                      return_sequences=True)(x)
        x = layers.MaxPooling3D((1, 2, 2), padding="same", data_format="channels_last")(x)
        if i < 3:
            x = FoldedTimeDistributed(layers.Dropout(0.2))(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name="convlstm")

# from notebooks/03_cnn_rnn_hybrid.ipynb
# Paper 000 (Tables I-III, notebook 03): the CNN and RNN feature extractors and the three models.
FRAME_MODES = ("raw", "centered", "motion")


def _frames(x: keras.KerasTensor, *, frames: str, prefix: str) -> keras.KerasTensor:
    """``raw`` frames, ``centered`` (minus the clip's mean frame) or ``motion`` (its magnitude)."""
    if frames not in FRAME_MODES:
        raise ValueError(f"frames must be one of {FRAME_MODES}, got {frames!r}")
    if frames == "raw":
        return x
    return TemporalCentering(absolute=frames == "motion", name=f"{prefix}_{frames}")(x)


def cnn_features(x: keras.KerasTensor, *, frame_size: int = 32, filters: Sequence[int] = (8, 16), units: int = 32,
                 dropout: float = 0.25, frames: str = "centered") -> keras.KerasTensor:
    """The order-blind CNN branch: a small 2D CNN on every frame, features averaged over time.

    Per frame: area-resize to ``frame_size x frame_size`` -> (``frames``) subtract the
    clip's mean frame -> [Conv2D(f, 3x3, relu) -> MaxPool(2)] for each f in ``filters`` ->
    Flatten -> Dropout -> Dense(units, relu). Then the mean over frames, so the result is
    the same for any order of the frames: the CNN sees space, never order (the mean frame
    does not depend on their order either).

    Args:
        x: Float clips ``(batch, num_frames, height, width, 3)`` in [0, 1].
        frame_size: Side of the frames the convolutions see (downscaled to stay cheap on a CPU).
        filters: Filters of each Conv2D block.
        units: Width of the per-frame feature vector.
        dropout: Dropout rate before the per-frame Dense.
        frames: ``"centered"`` subtracts each clip's mean frame (:class:`TemporalCentering`),
            i.e. removes the static background, which differs between groups; ``"raw"`` lets
            the CNN see the scene; ``"motion"`` is the magnitude of the centered frames.

    Returns:
        Features ``(batch, units)``.
    """
    x = FoldedTimeDistributed(layers.Resizing(frame_size, frame_size, interpolation="area"), name="cnn_downscale")(x)
    x = _frames(x, frames=frames, prefix="cnn")
    for i, f in enumerate(filters, start=1):
        x = FoldedTimeDistributed(layers.Conv2D(f, (3, 3), padding="same", activation="relu"), name=f"cnn_conv{i}")(x)
        x = FoldedTimeDistributed(layers.MaxPooling2D((2, 2)), name=f"cnn_pool{i}")(x)
    x = FoldedTimeDistributed(layers.Flatten(), name="cnn_flatten")(x)
    if dropout:
        x = layers.Dropout(dropout, name="cnn_dropout")(x)
    x = FoldedTimeDistributed(layers.Dense(units, activation="relu"), name="cnn_frame_features")(x)
    return layers.GlobalAveragePooling1D(name="cnn_time_average")(x)

# from notebooks/03_cnn_rnn_hybrid.ipynb
def rnn_features(x: keras.KerasTensor, *, frame_size: int = 16, units: int = 32, frames: str = "motion"
                 ) -> keras.KerasTensor:
    """The RNN branch: an LSTM over the pixels of downscaled frames (no convolutions).

    Per frame: area-resize to ``frame_size x frame_size`` -> (``frames``) the magnitude of
    the difference from the clip's mean frame -> Flatten (``frame_size**2 * 3`` values) ->
    LayerNormalization; then LSTM(units) over the frames, in order. On ``"raw"`` pixels the
    static background dominates and differs between groups, and the LSTM generalises to
    held-out groups about at chance level (like paper 000's RNN); ``"centered"`` removes
    the background; ``"motion"`` also drops the sign, which depends on the actor's colour
    against the background, so the LSTM sees where things moved, frame by frame, whatever
    their colour.

    Args:
        x: Float clips ``(batch, num_frames, height, width, 3)`` in [0, 1].
        frame_size: Side of the downscaled frame fed to the LSTM.
        units: LSTM units (the width of the feature vector).
        frames: ``"raw"``, ``"centered"`` or ``"motion"`` (:class:`TemporalCentering`).

    Returns:
        Features ``(batch, units)``: the LSTM's last hidden state.
    """
    x = FoldedTimeDistributed(layers.Resizing(frame_size, frame_size, interpolation="area"), name="rnn_downscale")(x)
    x = _frames(x, frames=frames, prefix="rnn")
    x = FoldedTimeDistributed(layers.Flatten(), name="rnn_flatten")(x)
    x = layers.LayerNormalization(name="rnn_norm")(x)
    return layers.LSTM(units, name="rnn_lstm")(x)

# from notebooks/03_cnn_rnn_hybrid.ipynb
def build_cnn(*, num_classes: int, num_frames: int = 20, image_size: int = 64,
              class_names: Sequence[str] | None = None, frame_size: int = 32, filters: Sequence[int] = (8, 16),
              units: int = 32, dropout: float = 0.25, frames: str = "centered") -> keras.Model:
    """Paper 000's "CNN model" (Table II): a frame-level 2D CNN, features averaged over time.

    It sees the content of every frame but not their order: its output is the same for a
    clip and the clip played backwards. Layers: :func:`cnn_features` -> Dense softmax.

    Args:
        num_classes: Output classes.
        num_frames: Frames per clip.
        image_size: Frame height and width.
        class_names: Optional labels, stored in the model.
        frame_size, filters, units, dropout, frames: See :func:`cnn_features`.

    Returns:
        A model mapping uint8 ``(batch, num_frames, image_size, image_size, 3)`` to class
        probabilities ``(batch, num_classes)``.
    """
    inputs, x = clip_input(num_classes=num_classes, num_frames=num_frames, image_size=image_size,
                           class_names=class_names)
    x = cnn_features(x, frame_size=frame_size, filters=filters, units=units, dropout=dropout, frames=frames)
    outputs = layers.Dense(num_classes, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name="cnn")


def build_rnn(*, num_classes: int, num_frames: int = 20, image_size: int = 64,
              class_names: Sequence[str] | None = None, frame_size: int = 16, units: int = 32,
              frames: str = "motion") -> keras.Model:
    """Paper 000's "RNN model" (Table III): an LSTM over downscaled raw frames.

    It sees the order of the frames but has no convolutional features. Layers:
    :func:`rnn_features` -> Dense softmax.

    Args:
        num_classes: Output classes.
        num_frames: Frames per clip.
        image_size: Frame height and width.
        class_names: Optional labels, stored in the model.
        frame_size, units, frames: See :func:`rnn_features`.

    Returns:
        A model mapping uint8 ``(batch, num_frames, image_size, image_size, 3)`` to class
        probabilities ``(batch, num_classes)``.
    """
    inputs, x = clip_input(num_classes=num_classes, num_frames=num_frames, image_size=image_size,
                           class_names=class_names)
    x = rnn_features(x, frame_size=frame_size, units=units, frames=frames)
    outputs = layers.Dense(num_classes, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name="rnn")

# from notebooks/03_cnn_rnn_hybrid.ipynb
def build_hybrid(*, num_classes: int, num_frames: int = 20, image_size: int = 64,
                 class_names: Sequence[str] | None = None, alpha: float = 0.7, cnn_frame_size: int = 32,
                 cnn_filters: Sequence[int] = (8, 16), cnn_units: int = 32, cnn_dropout: float = 0.25,
                 cnn_frames: str = "centered", rnn_frame_size: int = 16, rnn_units: int = 32,
                 rnn_frames: str = "motion") -> keras.Model:
    """Paper 000's hybrid (Table I): ``alpha`` x CNN features and ``1 - alpha`` x RNN features,
    concatenated, then a softmax classifier.

    The branches are those of :func:`build_cnn` and :func:`build_rnn`, side by side on the
    same clip, merged by :class:`WeightedConcat` (paper 000: alpha = 0.7). At ``alpha=1``
    the RNN's features are multiplied by exactly zero (the model is the CNN plus an unused
    branch), at ``alpha=0`` the CNN's. For ``0 < alpha < 1`` the trained classifier could
    absorb any fixed scale, so alpha acts through training (how large each branch's
    features and gradients are), not as a hard mixing ratio.

    Args:
        num_classes: Output classes.
        num_frames: Frames per clip.
        image_size: Frame height and width.
        class_names: Optional labels, stored in the model.
        alpha: Weight of the CNN features, in [0, 1]; the RNN's get ``1 - alpha``.
        cnn_frame_size, cnn_filters, cnn_units, cnn_dropout, cnn_frames: The CNN branch (:func:`cnn_features`).
        rnn_frame_size, rnn_units, rnn_frames: The RNN branch (:func:`rnn_features`).

    Returns:
        A model mapping uint8 ``(batch, num_frames, image_size, image_size, 3)`` to class
        probabilities ``(batch, num_classes)``.
    """
    fusion = WeightedConcat(alpha=alpha, name="fusion")  # validates alpha before any layer is built
    inputs, x = clip_input(num_classes=num_classes, num_frames=num_frames, image_size=image_size,
                           class_names=class_names)
    cnn = cnn_features(x, frame_size=cnn_frame_size, filters=cnn_filters, units=cnn_units, dropout=cnn_dropout,
                       frames=cnn_frames)
    rnn = rnn_features(x, frame_size=rnn_frame_size, units=rnn_units, frames=rnn_frames)
    outputs = layers.Dense(num_classes, activation="softmax", name="classifier")(fusion([cnn, rnn]))
    return keras.Model(inputs, outputs, name="hybrid")


# --- END exported from the notebooks ---
