"""Figures shared by the notebooks, saved to the results folder as PNG."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


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


def plot_alpha_sweep(alphas: Sequence[float], scores: dict[str, Sequence[float]], *, errors: dict | None = None,
                     chance: float | None = None, mark: float | None = 0.7, ylabel: str = "accuracy",
                     title: str = "") -> plt.Figure:
    """A score against the hybrid's fusion weight alpha, paper 000's 0.7 marked (notebook 03).

    Args:
        alphas: ``(num_alphas,)`` x values in [0, 1] (0 = RNN features only, 1 = CNN features only).
        scores: One line per name (e.g. ``{"validation": [...]}``), each ``(num_alphas,)``.
        errors: Optional error bars per name, each ``(num_alphas,)`` (e.g. an accuracy's binomial standard error).
        chance: Draw the chance level as a dashed line.
        mark: Alpha to mark with a vertical line (the paper's 0.7); None for none.
        ylabel, title: Labels.
    """
    fig, ax = plt.subplots(figsize=(5, 3.2))
    for name, values in scores.items():
        yerr = None if errors is None else errors.get(name)
        ax.errorbar(alphas, values, yerr=yerr, marker="o", capsize=3, label=name)
    if chance is not None:
        ax.axhline(chance, color="grey", linestyle="--", linewidth=1, label="chance")
    if mark is not None:
        ax.axvline(mark, color="black", linestyle=":", linewidth=1, label=f"paper: alpha = {mark}")
    ax.set(xlabel="alpha (weight of the CNN features; RNN gets 1 - alpha)", ylabel=ylabel, xlim=(-0.05, 1.05),
           title=title or f"Hybrid: {ylabel} vs alpha")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_grouped_bars(table: pd.DataFrame, *, ylabel: str = "accuracy", chance: float | None = None,
                      title: str = "") -> plt.Figure:
    """Grouped bars in [0, 1]: one group per row of ``table``, one bar per column (notebook 03).

    Args:
        table: ``(num_groups, num_bars)`` values, e.g. per-class accuracy (rows = classes, columns = models).
        ylabel, title: Labels.
        chance: Draw the chance level as a dashed line.
    """
    rows, cols = list(table.index), list(table.columns)
    width = 0.8 / max(len(cols), 1)
    x = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(1.3 * len(rows) + 2, 3.2))
    for i, col in enumerate(cols):
        ax.bar(x + (i - (len(cols) - 1) / 2) * width, table[col].to_numpy(dtype=float), width, label=str(col))
    if chance is not None:
        ax.axhline(chance, color="grey", linestyle="--", linewidth=1, label="chance")
    ax.set_xticks(x, [str(r) for r in rows])
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1.05)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return fig
