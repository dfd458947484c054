"""How sure a comparison is: Wilson intervals, McNemar's exact test, and ``results/comparisons.csv``.

Two models tested on the *same* clips are a paired design: what matters is the clips one
gets right and the other wrong, not two accuracies treated as independent. McNemar's exact
test looks at exactly those discordant clips. Notebooks 01-03 (and 05) judge every "A beats B"
with :func:`compare` and write it with :func:`record_comparisons`. The tests and intervals
come from statsmodels, not from our own formula.

The verdict rule, stated once (:func:`verdict`): at ``ALPHA = 0.05``, a p-value below
``ALPHA`` names the more accurate model ("a better" / "b better"); otherwise "no clear
difference".
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint, test_proportions_2indep

from helpers.results import upsert_rows

#: Significance level of every verdict in the project.
ALPHA = 0.05
#: Columns of ``results/comparisons.csv``; (notebook, a, b) is the key.
COMPARISON_COLUMNS = ["notebook", "a", "b", "accuracy_a", "accuracy_b", "test", "p_value", "verdict"]
#: The test named in the ``test`` column.
MCNEMAR_EXACT = "McNemar exact"
#: The ``test`` of two accuracies on *different* test sets (no pairing): Newcombe's interval, score test.
UNPAIRED = "unpaired: Newcombe interval, score test"


def wilson_interval(correct: int, total: int, *, alpha: float = ALPHA) -> tuple[float, float]:
    """Wilson score interval of an accuracy of ``correct`` out of ``total`` clips.

    Returns:
        ``(low, high)`` at confidence ``1 - alpha``; ``(0.0, 1.0)`` when ``total`` is 0.
    """
    if total <= 0:
        return 0.0, 1.0
    low, high = proportion_confint(int(correct), int(total), alpha=alpha, method="wilson")
    return float(low), float(high)


def accuracy_interval(y_true: np.ndarray, y_pred: np.ndarray, *, alpha: float = ALPHA) -> tuple[float, float, float]:
    """Accuracy of ``y_pred`` ``(num_clips,)`` against ``y_true`` ``(num_clips,)`` and its Wilson interval.

    Returns:
        ``(accuracy, ci_low, ci_high)``.
    """
    correct = np.asarray(y_true) == np.asarray(y_pred)
    return (float(correct.mean()) if correct.size else float("nan"),
            *wilson_interval(int(correct.sum()), int(correct.size), alpha=alpha))


def difference_interval(correct_a: int, total_a: int, correct_b: int, total_b: int, *,
                        alpha: float = ALPHA) -> tuple[float, float]:
    """Newcombe's interval of accuracy_a - accuracy_b measured on two *different* test sets.

    For one model under two splits (notebook 01's leak gap), where no clip-by-clip pairing
    exists; the test sets are treated as independent samples.
    """
    low, high = confint_proportions_2indep(int(correct_a), int(total_a), int(correct_b), int(total_b),
                                           method="newcomb", alpha=alpha)
    return float(low), float(high)


def mcnemar_exact(y_true: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray) -> tuple[int, int, float]:
    """McNemar's exact test on two models' predictions for the same clips.

    Args:
        y_true: Labels ``(num_clips,)``.
        pred_a, pred_b: The two models' predicted labels ``(num_clips,)``, same clips, same order.

    Returns:
        ``(only_a, only_b, p_value)``: clips only ``a`` got right, clips only ``b`` got right,
        and the two-sided exact p-value (binomial on the discordant clips, statsmodels);
        1.0 when no clip is discordant.
    """
    y_true, pred_a, pred_b = (np.asarray(v) for v in (y_true, pred_a, pred_b))
    if not y_true.shape == pred_a.shape == pred_b.shape:
        raise ValueError(f"shapes differ: {y_true.shape}, {pred_a.shape}, {pred_b.shape}")
    right_a, right_b = pred_a == y_true, pred_b == y_true
    table = [[int(np.sum(right_a & right_b)), int(np.sum(right_a & ~right_b))],
             [int(np.sum(~right_a & right_b)), int(np.sum(~right_a & ~right_b))]]
    only_a, only_b = table[0][1], table[1][0]
    p_value = float(mcnemar(table, exact=True).pvalue) if only_a + only_b else 1.0
    return only_a, only_b, min(p_value, 1.0)


def verdict(accuracy_a: float, accuracy_b: float, p_value: float, *, alpha: float = ALPHA) -> str:
    """The project's one verdict rule: the more accurate model is "better" only when ``p_value < alpha``."""
    if p_value < alpha and accuracy_a != accuracy_b:
        return "a better" if accuracy_a > accuracy_b else "b better"
    return "no clear difference"


def compare(y_true: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray, *, notebook: str, a: str, b: str,
            alpha: float = ALPHA) -> dict:
    """One row of ``results/comparisons.csv``: models ``a`` and ``b`` on the same clips, McNemar's exact test.

    Args:
        y_true: Labels ``(num_clips,)``.
        pred_a, pred_b: Predicted labels ``(num_clips,)`` of ``a`` and ``b``.
        notebook: Which notebook made the comparison (e.g. ``"01_lrcn"``).
        a, b: Names of the two models or settings.

    Returns:
        A dict with :data:`COMPARISON_COLUMNS`, plus ``only_a``/``only_b`` (discordant clips) and ``clips``.
    """
    only_a, only_b, p_value = mcnemar_exact(y_true, pred_a, pred_b)
    y_true = np.asarray(y_true)
    accuracy_a = float(np.mean(np.asarray(pred_a) == y_true))
    accuracy_b = float(np.mean(np.asarray(pred_b) == y_true))
    return {"notebook": notebook, "a": a, "b": b, "accuracy_a": accuracy_a, "accuracy_b": accuracy_b,
            "test": MCNEMAR_EXACT, "p_value": p_value,
            "verdict": verdict(accuracy_a, accuracy_b, p_value, alpha=alpha),
            "only_a": only_a, "only_b": only_b, "clips": int(y_true.size)}


def record_comparisons(path: str | os.PathLike, rows: Sequence[dict] | pd.DataFrame) -> pd.DataFrame:
    """Upsert comparison rows (from :func:`compare`) into ``path`` (``results/comparisons.csv``), atomically.

    Rows with the same ``(notebook, a, b)`` are replaced, so rerunning a notebook updates its
    rows and leaves the other notebooks' rows alone. Returns the whole table.
    """
    return upsert_rows(path, pd.DataFrame(list(rows) if not isinstance(rows, pd.DataFrame) else rows),
                       key=["notebook", "a", "b"], columns=COMPARISON_COLUMNS)


def compare_unpaired(correct_a: int, total_a: int, correct_b: int, total_b: int, *, notebook: str, a: str, b: str,
                     alpha: float = ALPHA) -> dict:
    """One row of ``results/comparisons.csv`` for two accuracies measured on *different* test sets.

    No clip-by-clip pairing exists (e.g. notebook 01's LRCN under the group and the random_clip
    split), so McNemar's test does not apply: the p-value is statsmodels' score test of two
    independent proportions, and ``ci_low``/``ci_high`` are Newcombe's interval of
    accuracy_a - accuracy_b (:func:`difference_interval`).

    Returns:
        A dict with :data:`COMPARISON_COLUMNS` plus ``ci_low``, ``ci_high``.
    """
    accuracy_a, accuracy_b = correct_a / total_a, correct_b / total_b
    if correct_a * total_b == correct_b * total_a:
        p_value = 1.0  # equal accuracies: the score test's statistic is 0 (statsmodels may return nan)
    else:
        with np.errstate(divide="ignore"):  # an accuracy of 1.0 makes statsmodels' (unused) odds ratio infinite
            p_value = float(test_proportions_2indep(int(correct_a), int(total_a), int(correct_b), int(total_b),
                                                    method="score").pvalue)
    low, high = difference_interval(correct_a, total_a, correct_b, total_b, alpha=alpha)
    return {"notebook": notebook, "a": a, "b": b, "accuracy_a": accuracy_a, "accuracy_b": accuracy_b,
            "test": UNPAIRED, "p_value": p_value, "verdict": verdict(accuracy_a, accuracy_b, p_value, alpha=alpha),
            "ci_low": low, "ci_high": high}
