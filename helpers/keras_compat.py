"""Every use of Keras' (and the TFLite converter's) private API, in one module.

* :func:`layer_takes_training`, :func:`built_under_strategy`: two private attributes read by
  :mod:`helpers.layers` and :mod:`helpers.training`, each with a public fallback.
* :func:`graph_nodes`: the nodes of a functional or Sequential model's graph (:mod:`helpers.flops` walks them).
* :func:`disable_per_channel`: the converter's per-tensor int8 switch (:mod:`helpers.deploy`).
* :func:`apply_strategy_fixes`: Keras 3's ``fit`` under a tf.distribute strategy.


Under a strategy Keras 3 first peeks at one batch and ``strategy.reduce``-s it to build
the model. The peek consumes one shuffle order, so a distributed run would see other
batches than a single-device run (``tests/test_distributed.py`` compares the two), and
``MultiWorkerMirroredStrategy`` rejects the reduce outright; it also rejects Keras'
reduction of each logged scalar along ``axis=0`` (keras-team/keras#20585), so ``fit``
cannot run there at all. :func:`apply_strategy_fixes` works around these by reaching
into Keras internals, so it is guarded twice: only on the Keras version they were checked
on (:data:`CHECKED_KERAS_MAJOR`; the distributed tests fail if an upgrade breaks them) and
only where the private names still exist. Elsewhere it does nothing and warns.
:func:`helpers.training.train` calls it only for a model built under a strategy; the
logging patch applies only to a MultiWorkerMirroredStrategy.
"""

from __future__ import annotations

import inspect
import os
import warnings

import keras
import tensorflow as tf

#: Keras major version the workarounds were written and tested for (3.x; last checked on 3.15).
CHECKED_KERAS_MAJOR = 3


def keras_version_checked(version: str | None = None) -> bool:
    """Whether ``version`` (default: the installed Keras) is one the workarounds were checked on."""
    major = (version or keras.version()).split(".", 1)[0]
    return major.isdigit() and int(major) == CHECKED_KERAS_MAJOR


def layer_takes_training(layer: keras.layers.Layer) -> bool:
    """Whether ``layer.call`` takes a ``training`` argument (Keras' own private flag; the signature otherwise)."""
    flag = getattr(layer, "_call_has_training_arg", None)
    return bool(flag) if flag is not None else "training" in inspect.signature(layer.call).parameters


def built_under_strategy(model: keras.Model) -> bool:
    """Whether ``model`` was created inside a tf.distribute strategy's scope (its private ``_distribute_strategy``)."""
    return getattr(model, "_distribute_strategy", None) is not None


def graph_nodes(model: keras.Model) -> list:
    """Every node (one layer call) of a functional or Sequential model's graph, input nodes included.

    Keras 3 keeps them in the private ``_nodes_by_depth`` (a Sequential model's graph is its private
    ``_functional``); guarded, with an error naming the model where they are missing.

    Raises:
        ValueError: A Sequential model without an input shape.
        TypeError: A model with no graph to walk (a subclassed model).
    """
    graph = model
    if isinstance(model, keras.Sequential):
        if not model.built or getattr(model, "_functional", None) is None:
            raise ValueError(f"Sequential model {model.name!r} has no input shape: start it with keras.Input")
        graph = model._functional
    nodes_by_depth = getattr(graph, "_nodes_by_depth", None)
    if nodes_by_depth is None:
        raise TypeError(f"cannot walk model {model.name!r} ({type(model).__name__}): only functional and "
                        "Sequential models are supported")
    return [node for nodes in nodes_by_depth.values() for node in nodes]


def disable_per_channel(converter: tf.lite.TFLiteConverter, *, path: str | os.PathLike) -> None:
    """Make ``converter`` quantize int8 weights per tensor: its private ``_experimental_disable_per_channel``
    switch, the only route. Raises a one-line RuntimeError naming ``path`` where this TensorFlow lacks it."""
    if not hasattr(converter, "_experimental_disable_per_channel"):
        raise RuntimeError(f"{path}: this TensorFlow's converter has no per-tensor switch; "
                           "export with per_channel=True (--per-channel)")
    converter._experimental_disable_per_channel = True


def _build_without_peeking(model: keras.Model, train_ds: tf.data.Dataset) -> None:
    """Build a model made under a tf.distribute strategy from the dataset's element spec.

    Under a strategy, Keras 3's ``fit``/``evaluate`` first take one batch and
    ``strategy.reduce`` it to build the model symbolically. ``MultiWorkerMirroredStrategy``
    rejects that reduce (keras-team/keras#20585), and the peek consumes one shuffle order,
    so the batches differ from a single-device run. Build from shapes instead and turn the
    peek off on this model (Keras private API, hence the guard).
    """
    if not (hasattr(model, "_symbolic_build") and hasattr(model, "_maybe_symbolic_build")):
        return
    with model.distribute_strategy.scope():
        model._symbolic_build(data_batch=train_ds.element_spec)  # TensorSpecs carry shape and dtype
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None


def _fix_multi_worker_log_reduction() -> None:
    """Make Keras 3 average the logged metrics across workers the way it does across GPUs.

    Under ``MultiWorkerMirroredStrategy`` Keras 3 reduces each logged value with
    ``strategy.reduce("MEAN", value, axis=0)``, which fails on scalars ("Invalid
    reduction dimension 0", keras-team/keras#20585): fit() cannot run at all. The mean
    across replicas is ``axis=None``. Patched once, and only that strategy takes the new path.
    """
    try:
        from keras.src.backend.tensorflow import trainer as keras_tf_trainer
    except ImportError:  # another Keras layout: nothing to patch
        return
    original = getattr(keras_tf_trainer, "reduce_per_replica", None)
    if original is None or getattr(original, "patched_by_helpers", False):
        return

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
            return tf.nest.map_structure(lambda value: strategy.reduce("MEAN", value, axis=None), values)
        return original(values, strategy, reduction)

    reduce_per_replica.patched_by_helpers = True
    keras_tf_trainer.reduce_per_replica = reduce_per_replica


def apply_strategy_fixes(model: keras.Model, train_ds: tf.data.Dataset) -> bool:
    """Let ``model.fit(train_ds)`` run, on the same batches as on one device, under ``model``'s strategy.

    Args:
        model: A compiled model created inside a tf.distribute strategy's scope.
        train_ds: The training dataset, whose element spec builds the model.

    Returns:
        True if the workarounds were applied; False (with a warning) on a Keras version
        they were not checked on.
    """
    if not keras_version_checked():
        warnings.warn(f"helpers.keras_compat: Keras {keras.version()} is not {CHECKED_KERAS_MAJOR}.x; the "
                      "tf.distribute workarounds are skipped", RuntimeWarning, stacklevel=2)
        return False
    _build_without_peeking(model, train_ds)
    if isinstance(model.distribute_strategy, tf.distribute.MultiWorkerMirroredStrategy):
        _fix_multi_worker_log_reduction()
    return True
