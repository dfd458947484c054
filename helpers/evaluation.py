"""Evaluation as paper 001 reports it (loss, accuracy, ms/step from ``model.evaluate``)
plus what the paper does not show: confusion matrix and per-class precision/recall.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import keras
import numpy as np
import pandas as pd

from helpers.pipeline import compile_model, make_dataset


@dataclass
class Evaluation:
    """Result of :func:`evaluate`.

    Attributes:
        loss, accuracy: As ``model.evaluate`` reports them.
        ms_per_step: Wall time of ``model.evaluate`` per batch, after a warm-up (the
            number Keras prints as ``ms/step``; paper Figures 10-11).
        steps: Batches evaluated.
        metrics: Every compiled metric (``loss``, ``accuracy``, ``mse`` ...).
        confusion: ``(num_classes, num_classes)`` counts, rows = true class.
        per_class: precision, recall, f1 and support per class.
        probabilities: ``(num_clips, num_classes)`` predicted probabilities.
        y_true, y_pred: ``(num_clips,)`` labels.
    """

    loss: float
    accuracy: float
    ms_per_step: float
    steps: int
    metrics: dict[str, float]
    confusion: np.ndarray
    per_class: pd.DataFrame
    probabilities: np.ndarray = field(repr=False)
    y_true: np.ndarray = field(repr=False)
    y_pred: np.ndarray = field(repr=False)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, *, num_classes: int) -> np.ndarray:
    """Counts ``(num_classes, num_classes)``; entry [i, j] = clips of class i predicted as j."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return matrix


def per_class_report(confusion: np.ndarray, class_names: Sequence[str]) -> pd.DataFrame:
    """Precision, recall, F1 and support per class from a confusion matrix (0 where undefined)."""
    tp = np.diag(confusion).astype(float)
    predicted = confusion.sum(axis=0)
    support = confusion.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return pd.DataFrame({"precision": precision, "recall": recall, "f1": f1, "support": support},
                        index=pd.Index(list(class_names), name="class"))


def evaluate(model: keras.Model, test_data: tuple[np.ndarray, np.ndarray], *, batch_size: int = 32,
             class_names: Sequence[str] | None = None) -> Evaluation:
    """Evaluate a model on uint8 clips.

    ``batch_size=32`` is Keras' default, which the paper used (122 test clips -> 4 steps).
    One warm-up batch is evaluated first so graph tracing is not counted in ms/step.

    Args:
        model: A trained model (compiled with categorical cross-entropy if not compiled).
        test_data: ``(features, labels)``, uint8 ``(n, num_frames, h, w, 3)`` (or a dict of
            inputs, see :func:`helpers.pipeline.make_dataset`) and int ``(n,)``.
        batch_size: Batch size of evaluate and predict.
        class_names: Row labels of the per-class table; defaults to ``class_i``.

    Returns:
        An :class:`Evaluation`.
    """
    features, labels = test_data
    labels = np.asarray(labels, dtype=np.int64)
    num_classes = int(model.output_shape[-1])
    class_names = list(class_names) if class_names is not None else [f"class_{i}" for i in range(num_classes)]
    if len(class_names) != num_classes:
        raise ValueError(f"model has {num_classes} outputs but {len(class_names)} class names were given")
    if not model.compiled:
        compile_model(model)
    ds = make_dataset(features, labels, num_classes=num_classes, batch_size=batch_size)
    model.evaluate(ds.take(1), verbose=0)  # warm-up: trace the test function
    start = time.perf_counter()
    metrics = model.evaluate(ds, verbose=0, return_dict=True)
    elapsed = time.perf_counter() - start
    steps = int(np.ceil(len(labels) / batch_size))
    probabilities = model.predict(ds, verbose=0)
    y_pred = probabilities.argmax(axis=1)
    confusion = confusion_matrix(labels, y_pred, num_classes=num_classes)
    metrics = {k: float(v) for k, v in metrics.items()}
    return Evaluation(
        loss=metrics["loss"],
        accuracy=metrics.get("accuracy", float((y_pred == labels).mean())),
        ms_per_step=1000.0 * elapsed / steps,
        steps=steps,
        metrics=metrics,
        confusion=confusion,
        per_class=per_class_report(confusion, class_names),
        probabilities=probabilities,
        y_true=labels,
        y_pred=y_pred,
    )
