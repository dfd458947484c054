"""Figures: the confusion matrix stays readable (and bounded) at UCF101's 101 classes; the figures that
notebooks 00 and 04 define for themselves (tested through scripts/notebook_source) read the right frames."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from pathlib import Path  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from helpers.plots import MAX_LABELLED_CLASSES, plot_confusion_matrix  # noqa: E402
from scripts.notebook_source import definitions  # noqa: E402
from tests.conftest import numbered_frames, write_video  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


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


def test_notebook_00_first_frames_and_clip_figures(tmp_path):
    nb = definitions(NOTEBOOKS / "00_data.ipynb", names=["read_first_frame", "plot_first_frames", "plot_clip"])
    frames = numbered_frames(5, size=32)
    video = write_video(tmp_path / "v.avi", frames)
    np.testing.assert_allclose(nb.read_first_frame(video).mean(axis=(0, 1)), frames[0, 0, 0], atol=8)  # RGB, not BGR
    fig = nb.plot_first_frames([video, video, video], ["a", "b", "c"], cols=2)
    assert len(fig.axes) == 4 and sum(bool(ax.images) for ax in fig.axes) == 3  # the spare axis stays empty
    plt.close(fig)
    fig = nb.plot_clip(frames, title="clip", max_frames=3)
    assert [ax.get_title() for ax in fig.axes] == ["t=0", "t=2", "t=4"]
    plt.close(fig)


def test_notebook_04_video_frames_are_spread_over_the_video_with_their_times(tmp_path):
    nb = definitions(NOTEBOOKS / "04_predict.ipynb", names=["read_spread_frames", "plot_video_frames"])
    frames = numbered_frames(11, size=32)
    video = write_video(tmp_path / "v.avi", frames, fps=10.0)
    picked, fps = nb.read_spread_frames(video, num_frames=3)
    assert [i for i, _ in picked] == [0, 5, 10] and fps == 10.0
    for i, frame in picked:
        np.testing.assert_allclose(frame.mean(axis=(0, 1)), frames[i, 0, 0], atol=8)
    fig = nb.plot_video_frames(video, num_frames=3, title="spread")
    assert [ax.get_title() for ax in fig.axes] == ["t = 0.0 s", "t = 0.5 s", "t = 1.0 s"]
    plt.close(fig)



def test_alpha_sweep_draws_one_line_per_score_with_its_error_bars_chance_and_the_paper_mark():
    from helpers.plots import plot_alpha_sweep

    alphas, accuracy, se = [0.0, 0.5, 0.7, 1.0], [0.3, 0.6, 0.7, 0.4], [0.05, 0.04, 0.03, 0.05]
    fig = plot_alpha_sweep(alphas, {"validation": accuracy}, errors={"validation": se}, chance=0.25, mark=0.7)
    ax = fig.axes[0]
    line, _, (bar_lines,) = ax.containers[0]  # the ErrorbarContainer: data line, caps, bars
    np.testing.assert_allclose(np.asarray(line.get_xdata(), float), alphas)
    np.testing.assert_allclose(np.asarray(line.get_ydata(), float), accuracy)
    bars = bar_lines.get_segments()  # one vertical error bar per alpha, +-se around the score
    np.testing.assert_allclose([s[1][1] - s[0][1] for s in bars], 2 * np.array(se))
    assert set(ax.get_legend_handles_labels()[1]) == {"validation", "chance", "paper: alpha = 0.7"}
    plt.close(fig)


def test_grouped_bars_put_one_bar_per_column_in_each_row_group():
    import pandas as pd

    from helpers.plots import plot_grouped_bars

    table = pd.DataFrame({"cnn": [0.5, 0.25], "rnn": [1.0, 0.75]}, index=["SitDown", "StandUp"])
    fig = plot_grouped_bars(table, ylabel="held-out accuracy", chance=0.5, title="pairs")
    ax = fig.axes[0]
    heights = [[p.get_height() for p in container] for container in ax.containers]
    assert heights == [[0.5, 0.25], [1.0, 0.75]]  # a container per column, a bar per row
    assert [t.get_text() for t in ax.get_xticklabels()] == ["SitDown", "StandUp"]
    assert ax.get_ylabel() == "held-out accuracy" and ax.get_title() == "pairs"
    plt.close(fig)
