"""Model builders, and saving/loading models together with their class names (and their cards, :mod:`helpers.cards`).

Every model takes the raw uint8 RGB clips that :func:`helpers.data.create_dataset`
returns, shape ``(batch, num_frames, image_size, image_size, 3)``: scaling to [0, 1]
is the first layer, a :class:`ClipRescaling` (a Keras ``Rescaling`` that also records
the class names, frame count and image size the model expects). It has no
parameters, so the paper's counts hold, and a saved ``.keras`` file carries
everything inference needs. The one exception is notebook 05's two-stream model, which also
takes the clip's optical flow (``{"clip": ..., "flow": ...}``, see :mod:`helpers.flow`).

The paper models' builders (paper 001's ``build_lrcn``, ``build_convlstm``; paper 000's ``build_cnn``,
``build_rnn``, ``build_hybrid``; the families of notebooks 05 and 10: ``build_c3d``, ``build_two_stream``,
``build_transfer``) are in :mod:`helpers.paper_models`, generated from the notebooks' ``#@save`` definitions.
"""

from __future__ import annotations

import hashlib
import os
import warnings
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path

import keras

from helpers import cards
from helpers.atomic import atomic_write
from helpers.layers import ClipRescaling
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
                         "build it with a helpers.paper_models builder")
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
