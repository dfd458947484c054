"""Figures shared by the notebooks, saved to the results folder as PNG."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np


def save_figure(fig: plt.Figure, path: str | os.PathLike, *, dpi: int = 120) -> Path:
    """Save ``fig`` as PNG (folders created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return path


def plot_history(history: dict, *, metric: str = "loss", title: str | None = None) -> plt.Figure:
    """Training vs validation curve of one metric (paper 001 Figures 12-13).

    Args:
        history: ``History.history`` (a dict of per-epoch lists).
        metric: ``"loss"`` or ``"accuracy"`` (any key with a ``val_`` twin).
    """
    fig, ax = plt.subplots(figsize=(5, 3.2))
    epochs = np.arange(1, len(history[metric]) + 1)
    ax.plot(epochs, history[metric], "b-", label=f"Total {metric}")
    if f"val_{metric}" in history:
        ax.plot(epochs, history[f"val_{metric}"], "r-", label=f"Total validation {metric}")
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.set_title(title or f"Total {metric} vs total validation {metric}")
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


#: Up to this many classes every cell of a confusion matrix is labelled with its count.
MAX_LABELLED_CLASSES = 20
#: A confusion figure grows with the class count up to this many inches a side.
MAX_CONFUSION_INCHES = 11.0


def plot_confusion_matrix(confusion: np.ndarray, class_names: Sequence[str], *, title: str = "") -> plt.Figure:
    """Confusion matrix, rows (true classes) normalised: each row shows where that class's clips went.

    Readable at any class count: cells carry their counts only up to
    :data:`MAX_LABELLED_CLASSES` classes, and the figure stops growing at
    :data:`MAX_CONFUSION_INCHES` (at 101 classes the colours and the diagonal tell the story).

    Args:
        confusion: int ``(num_classes, num_classes)`` counts, rows true, columns predicted.
        class_names: ``num_classes`` labels.
        title: Figure title.
    """
    n = len(class_names)
    confusion = np.asarray(confusion)
    totals = confusion.sum(axis=1, keepdims=True)
    fraction = np.divide(confusion, totals, out=np.zeros(confusion.shape), where=totals > 0)
    side = min(0.6 * n + 2.5, MAX_CONFUSION_INCHES)
    fig, ax = plt.subplots(figsize=(side, side - 0.5))
    image = ax.imshow(fraction, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="fraction of the true class")
    fontsize = 8 if n <= MAX_LABELLED_CLASSES else max(3.0, min(8.0, 400 / n))  # 101 classes: 4 pt, one per row
    ax.set_xticks(range(n), class_names, rotation=90 if n > MAX_LABELLED_CLASSES else 45, ha="right",
                  fontsize=fontsize)
    ax.set_yticks(range(n), class_names, fontsize=fontsize)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if n <= MAX_LABELLED_CLASSES:
        for i in range(n):
            for j in range(n):
                ax.text(j, i, int(confusion[i, j]), ha="center", va="center",
                        color="white" if fraction[i, j] > 0.5 else "black", fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    return fig
