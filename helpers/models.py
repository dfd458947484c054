"""Model builders, and saving/loading models together with their class names.

Every model takes the raw uint8 RGB clips that :func:`helpers.data.create_dataset`
returns, shape ``(batch, num_frames, image_size, image_size, 3)``: scaling to [0, 1]
is the first layer, a :class:`ClipRescaling` (a Keras ``Rescaling`` that also records
the class names, frame count and image size the model expects). It has no
parameters, so the paper's counts hold, and a saved ``.keras`` file carries
everything inference needs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
from keras import layers

RESCALING_LAYER = "rescaling"


@keras.saving.register_keras_serializable(package="helpers")
class ClipRescaling(layers.Rescaling):
    """``Rescaling(1/255)`` for uint8 clips that also stores the model's class names.

    Args:
        class_names: Label of each output unit, in order.
        num_frames: Frames per clip the model was built for.
        image_size: Frame height and width the model was built for.
    """

    def __init__(self, *, class_names: Sequence[str] = (), num_frames: int = 20, image_size: int = 64, **kwargs):
        kwargs.setdefault("scale", 1.0 / 255)
        super().__init__(**kwargs)
        self.class_names = [str(c) for c in class_names]
        self.num_frames = int(num_frames)
        self.image_size = int(image_size)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(class_names=list(self.class_names), num_frames=self.num_frames, image_size=self.image_size)
        return config


@keras.saving.register_keras_serializable(package="helpers")
class TimeDistributed(layers.TimeDistributed):
    """``keras.layers.TimeDistributed`` that folds time into the batch axis.

    Keras 3's TimeDistributed runs the wrapped layer once per timestep in a Python
    loop (20 small convolutions per layer per step); folding
    ``(batch, time, ...) -> (batch * time, ...)`` runs it once on a big batch. Same
    weights, same outputs (per-frame dropout masks stay independent), several times
    faster on a CPU. Only for layers without masks or state across time.
    """

    def call(self, inputs, training=None, mask=None):
        if mask is not None:
            return super().call(inputs, training=training, mask=mask)
        shape = keras.ops.shape(inputs)
        folded = keras.ops.reshape(inputs, (-1, *inputs.shape[2:]))
        kwargs = {"training": training} if self.layer._call_has_training_arg else {}
        outputs = self.layer.call(folded, **kwargs)
        return keras.ops.reshape(outputs, (shape[0], shape[1], *outputs.shape[1:]))


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


def clip_input(*, num_classes: int, num_frames: int, image_size: int, class_names: Sequence[str] | None = None
               ) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """The shared model head: a uint8 clip input and its [0, 1] float rescaling.

    Returns:
        ``(inputs, x)``: inputs of shape ``(batch, num_frames, image_size, image_size, 3)``
        uint8, and x the same shape in float32.
    """
    inputs = keras.Input(shape=(num_frames, image_size, image_size, 3), dtype="uint8", name="clip")
    x = ClipRescaling(class_names=_class_names(num_classes, class_names), num_frames=num_frames,
                      image_size=image_size, name=RESCALING_LAYER)(inputs)
    return inputs, x


def build_lrcn(*, num_classes: int, num_frames: int = 20, image_size: int = 64,
               class_names: Sequence[str] | None = None) -> keras.Model:
    """HiSVidClassifier (paper 001, Figure 8): an LRCN.

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
    for filters, pool, dropout in ((16, 4, 0.25), (32, 4, 0.25), (64, 2, 0.25), (64, 2, 0.0)):
        x = TimeDistributed(layers.Conv2D(filters, (3, 3), padding="same", activation="relu"))(x)
        x = TimeDistributed(layers.MaxPooling2D((pool, pool)))(x)
        if dropout:
            x = TimeDistributed(layers.Dropout(dropout))(x)
    x = TimeDistributed(layers.Flatten(), name="frame_features")(x)
    x = layers.LSTM(32, name="lstm")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name="lrcn")


def build_convlstm(*, num_classes: int, num_frames: int = 20, image_size: int = 64,
                   class_names: Sequence[str] | None = None) -> keras.Model:
    """The ConvLSTM baseline of paper 001 (44,524 parameters with 4 classes).

    ConvLSTM2D with 4, 8, 14, 16 filters (3x3, tanh, recurrent_dropout 0.2,
    return_sequences), each followed by MaxPooling3D((1, 2, 2)) and, except the last,
    TimeDistributed(Dropout(0.2)); Flatten; Dense softmax.

    Returns:
        A model mapping uint8 ``(batch, num_frames, image_size, image_size, 3)`` to
        class probabilities ``(batch, num_classes)``.
    """
    inputs, x = clip_input(num_classes=num_classes, num_frames=num_frames, image_size=image_size,
                           class_names=class_names)
    for i, filters in enumerate((4, 8, 14, 16)):
        x = layers.ConvLSTM2D(filters, (3, 3), activation="tanh", data_format="channels_last",
                              recurrent_dropout=0.2, return_sequences=True)(x)
        x = layers.MaxPooling3D((1, 2, 2), padding="same", data_format="channels_last")(x)
        if i < 3:
            x = TimeDistributed(layers.Dropout(0.2))(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name="convlstm")


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
    """Save a model as ``.keras`` with its class names, atomically (temp file + rename)."""
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"{path}: model files must end in .keras")
    if class_names is not None:
        set_class_names(model, class_names)
    model_spec(model)  # refuse to save a model that inference could not use
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}.keras")
    try:
        model.save(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
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



# --- Paper 000: CNN, RNN and hybrid ---
# Paper 000 ("Deep learning for image and video processing", Tables I-III) compares a CNN,
# an RNN and a hybrid that weights CNN features by 0.7 and RNN features by 0.3 and merges
# them. The three share two feature extractors, so the hybrid is exactly "CNN branch + RNN
# branch": every CNN-branch layer is named ``cnn_*``, every RNN-branch layer ``rnn_*``.


@keras.saving.register_keras_serializable(package="helpers")
class WeightedConcat(layers.Layer):
    """Concatenate ``alpha * a`` and ``(1 - alpha) * b``: paper 000's 0.7/0.3 feature merge.

    Paper 002's fusion rule ``y = alpha * f1(x) + (1 - alpha) * f2(x)`` applied to two
    feature vectors that are then concatenated rather than summed, as paper 000 does.
    ``alpha`` is fixed (not trained) and stored in the layer's config. At ``alpha=1`` the
    second input contributes exact zeros, at ``alpha=0`` the first.

    Args:
        alpha: Weight of the first input, in [0, 1].

    Call args:
        inputs: ``[a, b]`` of shapes ``(batch, features_a)`` and ``(batch, features_b)``.

    Returns:
        ``(batch, features_a + features_b)``.
    """

    def __init__(self, alpha: float = 0.7, **kwargs):
        super().__init__(**kwargs)
        alpha = float(alpha)
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
        self.alpha = alpha

    def call(self, inputs):
        first, second = inputs
        return keras.ops.concatenate([first * self.alpha, second * (1.0 - self.alpha)], axis=-1)

    def compute_output_shape(self, input_shape):
        first, second = input_shape
        width = None if first[-1] is None or second[-1] is None else first[-1] + second[-1]
        return (*first[:-1], width)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(alpha=self.alpha)
        return config


@keras.saving.register_keras_serializable(package="helpers")
class TemporalCentering(layers.Layer):
    """Subtract each clip's mean frame: ``x[:, t] - mean_t x[:, t]`` (optionally its magnitude).

    What stays still (the background of a fixed camera) becomes ~0 and what moves
    remains. The mean is over all frames, so it does not depend on their order. No
    parameters.

    Args:
        absolute: Return ``|x - mean|``: *where* something moved, whatever its colour
            against the background (a moving dark actor and a bright one look alike).

    Call args:
        inputs: ``(batch, num_frames, ...)``.

    Returns:
        The same shape.
    """

    def __init__(self, absolute: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.absolute = bool(absolute)

    def call(self, inputs):
        centered = inputs - keras.ops.mean(inputs, axis=1, keepdims=True)
        return keras.ops.abs(centered) if self.absolute else centered

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(absolute=self.absolute)
        return config


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
    x = TimeDistributed(layers.Resizing(frame_size, frame_size, interpolation="area"), name="cnn_downscale")(x)
    x = _frames(x, frames=frames, prefix="cnn")
    for i, f in enumerate(filters, start=1):
        x = TimeDistributed(layers.Conv2D(f, (3, 3), padding="same", activation="relu"), name=f"cnn_conv{i}")(x)
        x = TimeDistributed(layers.MaxPooling2D((2, 2)), name=f"cnn_pool{i}")(x)
    x = TimeDistributed(layers.Flatten(), name="cnn_flatten")(x)
    if dropout:
        x = layers.Dropout(dropout, name="cnn_dropout")(x)
    x = TimeDistributed(layers.Dense(units, activation="relu"), name="cnn_frame_features")(x)
    return layers.GlobalAveragePooling1D(name="cnn_time_average")(x)


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
    x = TimeDistributed(layers.Resizing(frame_size, frame_size, interpolation="area"), name="rnn_downscale")(x)
    x = _frames(x, frames=frames, prefix="rnn")
    x = TimeDistributed(layers.Flatten(), name="rnn_flatten")(x)
    x = layers.LayerNormalization(name="rnn_norm")(x)
    return layers.LSTM(units, name="rnn_lstm")(x)


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
