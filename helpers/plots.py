"""Figures shared by the notebooks, saved to the results folder as PNG."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import matplotlib.pyplot as plt
import numpy as np


def save_figure(fig: plt.Figure, path: str | os.PathLike, *, dpi: int = 120) -> Path:
    """Save ``fig`` as PNG (folders created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return path


def read_first_frame(video_path: str | os.PathLike) -> np.ndarray:
    """The first frame of a video, RGB uint8 ``(height, width, 3)``."""
    cap = cv2.VideoCapture(str(video_path), cv2.CAP_FFMPEG)
    try:
        ok, frame = cap.read()
    finally:
        cap.release()
    if not ok or frame is None:
        raise ValueError(f"{video_path}: could not read a first frame")
    return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


def label_frame(frame_rgb: np.ndarray, text: str, *, scale: float = 0.5) -> np.ndarray:
    """A copy of ``frame_rgb`` with ``text`` written in its top-left corner (paper 001 Figure 7)."""
    out = frame_rgb.copy()
    thickness = max(1, int(round(2 * scale)))
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    cv2.rectangle(out, (0, 0), (w + 8, h + base + 8), (0, 0, 0), -1)
    cv2.putText(out, text, (4, h + 4), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness, cv2.LINE_AA)
    return out


def plot_first_frames(video_paths: Sequence[str | os.PathLike], labels: Sequence[str], *, cols: int = 4
                      ) -> plt.Figure:
    """First frame of each video with its class name written on it (paper 001 Figure 7)."""
    rows = int(np.ceil(len(video_paths) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, path, label in zip(axes.flat, video_paths, labels, strict=False):  # axes may outnumber videos
        ax.imshow(label_frame(read_first_frame(path), label))
    fig.tight_layout()
    return fig


def plot_clip(clip: np.ndarray, *, title: str = "", max_frames: int = 10) -> plt.Figure:
    """Frames of one clip ``(num_frames, height, width, 3)`` side by side."""
    idx = np.linspace(0, len(clip) - 1, min(max_frames, len(clip))).astype(int)
    fig, axes = plt.subplots(1, len(idx), figsize=(1.4 * len(idx), 1.8))
    for ax, i in zip(np.atleast_1d(axes), idx, strict=True):
        ax.imshow(clip[i])
        ax.set_title(f"t={i}", fontsize=7)
        ax.axis("off")
    fig.suptitle(title, fontsize=9)
    return fig


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


def plot_confusion_matrix(confusion: np.ndarray, class_names: Sequence[str], *, title: str = "") -> plt.Figure:
    """Confusion matrix with counts; rows are true classes."""
    n = len(class_names)
    fig, ax = plt.subplots(figsize=(0.6 * n + 2.5, 0.6 * n + 2))
    ax.imshow(confusion, cmap="Blues")
    ax.set_xticks(range(n), class_names, rotation=45, ha="right")
    ax.set_yticks(range(n), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    peak = confusion.max() if confusion.size else 0
    for i in range(n):
        for j in range(n):
            ax.text(j, i, int(confusion[i, j]), ha="center", va="center",
                    color="white" if confusion[i, j] > peak / 2 else "black", fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    return fig
