"""helpers.stats: McNemar's exact test, Wilson intervals, the verdict rule, results/comparisons.csv."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from helpers.stats import (
    COMPARISON_COLUMNS,
    accuracy_interval,
    compare,
    compare_unpaired,
    difference_interval,
    mcnemar_exact,
    record_comparisons,
    verdict,
    wilson_interval,
)


def paired(*, both: int, only_a: int, only_b: int, neither: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels and two prediction vectors with the given right/wrong counts (label 0 right, 1 wrong)."""
    n = both + only_a + only_b + neither
    y_true = np.zeros(n, int)
    right_a = np.array([1] * both + [1] * only_a + [0] * only_b + [0] * neither, bool)
    right_b = np.array([1] * both + [0] * only_a + [1] * only_b + [0] * neither, bool)
    return y_true, np.where(right_a, 0, 1), np.where(right_b, 0, 2)


def exact_two_sided(k: int, n: int) -> float:
    """2 * P(X <= k), X ~ Binomial(n, 1/2), capped at 1: McNemar's exact p-value by hand."""
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2**n)


def test_mcnemar_exact_matches_the_binomial_by_hand():
    y_true, pred_a, pred_b = paired(both=20, only_a=1, only_b=7, neither=4)
    only_a, only_b, p_value = mcnemar_exact(y_true, pred_a, pred_b)
    assert (only_a, only_b) == (1, 7)
    assert exact_two_sided(1, 8) == 0.0703125  # (1 + 8) / 256 * 2
    assert p_value == pytest.approx(0.0703125, abs=1e-12)
    # the concordant clips do not matter, and swapping the models gives the same p-value
    assert mcnemar_exact(*paired(both=3, only_a=7, only_b=1, neither=50))[2] == pytest.approx(0.0703125)
    _, _, p = mcnemar_exact(*paired(both=0, only_a=0, only_b=10, neither=0))
    assert p == pytest.approx(exact_two_sided(0, 10))  # 2 / 1024


def test_mcnemar_without_discordant_clips_is_one():
    assert mcnemar_exact(*paired(both=5, only_a=0, only_b=0, neither=2)) == (0, 0, 1.0)


def test_wilson_interval_by_hand():
    correct, total, z = 116, 122, 1.959963984540054
    p = correct / total
    centre = (p + z**2 / (2 * total)) / (1 + z**2 / total)
    half = z / (1 + z**2 / total) * math.sqrt(p * (1 - p) / total + z**2 / (4 * total**2))
    low, high = wilson_interval(correct, total)
    assert (low, high) == pytest.approx((centre - half, centre + half), abs=1e-9)
    assert low < 0.9508 < high
    assert wilson_interval(0, 0) == (0.0, 1.0)
    accuracy, low2, high2 = accuracy_interval(np.r_[np.zeros(116), np.ones(6)], np.zeros(122))
    assert (accuracy, low2, high2) == pytest.approx((p, low, high))


def test_difference_interval_contains_the_difference():
    low, high = difference_interval(116, 122, 107, 122)
    assert low < (116 - 107) / 122 < high


def test_verdict_rule():
    assert verdict(0.9, 0.8, 0.01) == "a better"
    assert verdict(0.7, 0.8, 0.01) == "b better"
    assert verdict(0.9, 0.8, 0.2) == "no clear difference"
    assert verdict(0.9, 0.8, 0.05) == "no clear difference"  # p must be below alpha


def test_compare_and_record(tmp_path):
    path = tmp_path / "comparisons.csv"
    row = compare(*paired(both=10, only_a=0, only_b=12, neither=1), notebook="01_lrcn", a="x", b="y")
    assert row["verdict"] == "b better" and row["test"] == "McNemar exact" and row["clips"] == 23
    record_comparisons(path, [row])
    other = compare(*paired(both=10, only_a=1, only_b=1, neither=1), notebook="02_convlstm", a="x", b="y")
    record_comparisons(path, [other])
    again = dict(row, verdict="no clear difference")
    table = record_comparisons(path, [again])  # same key: replaced, not duplicated
    assert list(table.columns) == COMPARISON_COLUMNS
    assert len(table) == 2
    saved = pd.read_csv(path)
    assert saved.set_index("notebook").loc["01_lrcn", "verdict"] == "no clear difference"
    assert (tmp_path / "comparisons.md").exists()


def test_compare_unpaired_uses_newcombe_and_the_score_test():
    row = compare_unpaired(116, 122, 107, 122, notebook="01_lrcn", a="x", b="y")
    assert row["test"].startswith("unpaired") and set(COMPARISON_COLUMNS) <= set(row)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(difference_interval(116, 122, 107, 122))
    assert 0 < row["p_value"] < 1 and row["accuracy_a"] == pytest.approx(116 / 122)
    tie = compare_unpaired(10, 20, 15, 30, notebook="01_lrcn", a="x", b="y")
    assert tie["p_value"] == 1.0 and tie["verdict"] == "no clear difference"
    assert compare_unpaired(20, 20, 10, 20, notebook="01_lrcn", a="x", b="y")["verdict"] == "a better"
