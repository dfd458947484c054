"""Figures: the confusion matrix stays readable (and bounded) at UCF101's 101 classes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from helpers.plots import MAX_LABELLED_CLASSES, plot_confusion_matrix  # noqa: E402


def test_confusion_matrix_normalises_rows_and_labels_cells_of_few_classes():
    confusion = np.array([[3, 1, 0, 0], [0, 4, 0, 0], [2, 0, 2, 0], [0, 0, 0, 0]])  # last class: no clips
    fig = plot_confusion_matrix(confusion, ["a", "b", "c", "d"], title="four")
    ax = fig.axes[0]
    shown = np.asarray(ax.images[0].get_array())
    np.testing.assert_allclose(shown.sum(axis=1), [1, 1, 1, 0])
    np.testing.assert_allclose(shown[0], [0.75, 0.25, 0, 0])
    assert sorted(t.get_text() for t in ax.texts) == sorted(str(c) for c in confusion.ravel())  # 16 counts
    plt.close(fig)


def test_confusion_matrix_of_101_classes_stays_bounded_and_unlabelled():
    rng = np.random.default_rng(0)
    confusion = rng.integers(0, 5, (101, 101)) + np.diag(rng.integers(10, 40, 101))
    fig = plot_confusion_matrix(confusion, [f"Class{i:03d}" for i in range(101)])
    width, height = fig.get_size_inches() * fig.dpi
    assert width <= 1400 and height <= 1400  # pixels, whatever the class count (was 7,485 px)
    assert max(fig.get_size_inches()) * 120 <= 1400  # also as save_figure writes it (dpi 120)
    assert 101 > MAX_LABELLED_CLASSES and not fig.axes[0].texts  # no 10,201 cell labels
    assert len(fig.axes[0].get_yticklabels()) == 101  # every class still named
    plt.close(fig)
