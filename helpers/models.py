"""Model builders, and saving/loading models together with their class names (and their cards, :mod:`helpers.cards`).

Every model takes the raw uint8 RGB clips that :func:`helpers.data.create_dataset`
returns, shape ``(batch, num_frames, image_size, image_size, 3)``: scaling to [0, 1]
is the first layer, a :class:`ClipRescaling` (a Keras ``Rescaling`` that also records
the class names, frame count and image size the model expects). It has no
parameters, so the paper's counts hold, and a saved ``.keras`` file carries
everything inference needs. The one exception is notebook 05's two-stream model, which also
takes the clip's optical flow (``{"clip": ..., "flow": ...}``, see :mod:`helpers.flow`).

Builders: paper 001 (:func:`build_lrcn`, :func:`build_convlstm`), paper 000
(:func:`build_cnn`, :func:`build_rnn`, :func:`build_hybrid`), exported from the notebooks'
``#@save`` cells. The families only notebook 05 trains (3D CNN, two-stream, transfer) are
defined in that notebook; other users load its saved ``.keras`` files.
"""

from __future__ import annotations

import hashlib
import os
import warnings
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path

import keras
from keras import layers

from helpers import cards
from helpers.atomic import atomic_write
from helpers.layers import (
    ClipRescaling,
    FoldedTimeDistributed,
    FusedConvLSTM2D,
    TemporalCentering,
    WeightedConcat,
)
from helpers.runtime import CLIP_INPUT, FLOW_INPUT, ModelSpec  # noqa: F401  (the contract, importable from here)

RESCALING_LAYER = "rescaling"


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


def _fingerprint(model: keras.Model) -> str:
    """SHA-1 of a model's weights: a card follows a model only while its weights are those it was saved with."""
    digest = hashlib.sha1()
    for weight in model.weights:
        digest.update(keras.ops.convert_to_numpy(weight).tobytes())
    return digest.hexdigest()


#: model -> (its card, the fingerprint of its weights then), for the models saved or loaded in this process.
_CARDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def card_of(model: keras.Model) -> dict | None:
    """The card of the file ``model`` was saved to or loaded from (:mod:`helpers.cards`), while its weights are
    unchanged; else None (a model trained or pruned since is another model)."""
    card, fingerprint = _CARDS.get(model, (None, None))
    return card if card is not None and fingerprint == _fingerprint(model) else None


def save_model(model: keras.Model, path: str | os.PathLike, *, class_names: Sequence[str] | None = None,
               card: Mapping | None = None) -> Path:
    """Save a model as ``.keras`` with its class names, atomically (:func:`helpers.atomic.atomic_write`), and its
    model card beside it (``<model>.card.json`` and ``<model>.md``, :func:`helpers.cards.write_card`).

    Args:
        card: What the card says beyond the model itself: :func:`helpers.experiment.model_card` (data,
            protocol, held-out accuracy, seed spread, intended use and limits). None: a card that says
            only what the model carries (its data and test are "not recorded").
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"{path}: model files must end in .keras")
    if class_names is not None:
        set_class_names(model, class_names)
    spec = model_spec(model)  # refuse to save a model that inference could not use
    cards.check_markdown_target(path)  # before anything is written
    with atomic_write(path, suffix=".keras") as tmp:  # Keras requires the .keras ending
        model.save(tmp)
    described = {"model": model.name, "description": (
        f"`{model.name}`, {model.count_params():,} parameters; input {spec.num_frames} frames of "
        f"{spec.image_size}x{spec.image_size} RGB; classes {', '.join(spec.class_names)}"), "trained_on": None,
        "held_out": None, "seed_spread": None, "limits": None}
    cards.write_card(path, {**described, **(card or {})})
    _CARDS[model] = (cards.read_card(path), _fingerprint(model))
    return path


def load_model(path: str | os.PathLike, *, compile: bool = True) -> keras.Model:
    """Load a ``.keras`` model saved by :func:`save_model`, with Keras' safe mode on (its card: :func:`card_of`).

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: The file is not a usable model (message names the file).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: model file does not exist (train one with `python -m helpers train "
                                "FOLDER`, notebooks/01_lrcn.ipynb or `make run`)")
    try:
        model = keras.saving.load_model(path, compile=compile, safe_mode=True)
    except Exception as err:  # keras raises many types for a bad zip/config
        raise ValueError(f"{path}: not a loadable .keras model ({type(err).__name__}: {err})") from err
    model_spec(model)
    with warnings.catch_warnings():  # a stale card is not attached; cards.read_card says why when asked
        warnings.simplefilter("ignore")
        _CARDS[model] = (cards.read_card(path), _fingerprint(model))
    return model


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
