"""helpers.stats: McNemar's exact test, Wilson intervals, Holm within a family, the verdict rule, comparisons.csv."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from helpers.stats import (
    COMPARISON_COLUMNS,
    POST_HOC,
    accuracy_interval,
    compare,
    compare_seeds,
    compare_unpaired,
    difference_interval,
    find_pair,
    format_p,
    holm,
    mcnemar_exact,
    newcombe_p_value,
    paired_difference_interval,
    record_comparisons,
    settings_hash,
    standard_error,
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
    row = compare(*paired(both=10, only_a=0, only_b=12, neither=1), notebook="01_lrcn", a="x", b="y", settings="h1")
    assert row["verdict"] == "b better" and row["test"] == "McNemar exact" and row["clips"] == 23
    assert (row["only_a"], row["only_b"], row["family"], row["settings"]) == (0, 12, "01_lrcn", "h1")
    assert row["ci_high"] < 0  # b better: the interval of accuracy_a - accuracy_b lies below 0
    record_comparisons(path, [row])
    other = compare(*paired(both=10, only_a=1, only_b=1, neither=1), notebook="02_convlstm", a="u", b="v")
    record_comparisons(path, [other])
    again = compare(*paired(both=10, only_a=1, only_b=2, neither=1), notebook="01_lrcn", a="x", b="z")
    table = record_comparisons(path, [again])  # 01's rows are replaced by its new family, 02's stay
    assert list(table.columns) == COMPARISON_COLUMNS
    assert sorted(zip(table.notebook, table.b, strict=True)) == [("01_lrcn", "z"), ("02_convlstm", "v")]
    saved = pd.read_csv(path)
    assert saved.set_index("notebook").loc["01_lrcn", "verdict"] == "no clear difference"
    assert (tmp_path / "comparisons.md").exists()


def test_holm_matches_multipletests_on_a_known_example():
    p = [0.01, 0.04, 0.03, 0.005]
    # by hand: sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 -> 0.02, 0.03, 0.06, 0.06 (running max)
    assert holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm(p) == pytest.approx(multipletests(p, method="holm")[1])


def test_verdict_reads_the_adjusted_p_value_within_each_family(tmp_path):
    """Two pairs of one notebook, each at raw p = 0.039 ("better"): Holm doubles both to 0.078 and the verdicts flip."""
    path = tmp_path / "comparisons.csv"
    weak = compare(*paired(both=140, only_a=8, only_b=1, neither=11), notebook="05", a="lrcn", b="x")
    twin = compare(*paired(both=140, only_a=8, only_b=1, neither=11), notebook="05", a="lrcn", b="y")
    strong = compare(*paired(both=140, only_a=12, only_b=0, neither=8), notebook="05", a="lrcn", b="w")
    assert weak["p_value"] == pytest.approx(0.0390625) and weak["verdict"] == "a better"  # raw: better
    assert 0 < weak["ci_low"]  # the raw interval agrees with the raw p-value
    table = record_comparisons(path, [weak, twin, strong]).set_index("b")
    expected = multipletests([0.0390625, 0.0390625, 2 / 2**12], method="holm")[1]
    assert table.loc[["x", "y", "w"], "p_adjusted"].tolist() == pytest.approx(expected)
    assert table.loc["x", "p_adjusted"] == pytest.approx(2 * 0.0390625)
    assert table.loc["x", "verdict"] == table.loc["y", "verdict"] == "no clear difference"  # flipped by Holm
    assert table.loc["w", "verdict"] == "a better"
    # a family of one is not adjusted; another notebook's family leaves this one alone
    record_comparisons(path, [compare(*paired(both=140, only_a=8, only_b=1, neither=11), notebook="02", a="lrcn",
                                      b="z")])
    saved = pd.read_csv(path, dtype={"family": str}).set_index("b")
    assert saved.loc["z", "p_adjusted"] == pytest.approx(0.0390625) and saved.loc["z", "verdict"] == "a better"
    assert saved.loc["x", "verdict"] == "no clear difference" and saved.loc["z", "family"] == "02"


def test_post_hoc_rows_stay_outside_the_family_and_the_verdicts(tmp_path):
    path = tmp_path / "comparisons.csv"
    honest = compare(*paired(both=140, only_a=8, only_b=1, neither=11), notebook="03", a="hybrid", b="cnn")
    picked = compare(*paired(both=140, only_a=8, only_b=0, neither=12), notebook="03", a="hybrid", b="best",
                     post_hoc=True)
    table = record_comparisons(path, [honest, picked]).set_index("b")
    assert table.loc["best", "verdict"] == POST_HOC and bool(table.loc["best", "post_hoc"])
    assert table.loc["cnn", "p_adjusted"] == pytest.approx(0.0390625)  # a family of one: the post hoc row is out


def test_each_pair_is_tested_once(tmp_path):
    path = tmp_path / "comparisons.csv"
    record_comparisons(path, [compare(*paired(both=5, only_a=1, only_b=0, neither=1), notebook="02_convlstm",
                                      a="lrcn (group)", b="convlstm (group)")])
    again = compare(*paired(both=5, only_a=1, only_b=0, neither=1), notebook="05_model_comparison",
                    a="LRCN", b="ConvLSTM")
    with pytest.raises(ValueError, match="tested twice"):
        record_comparisons(path, [again])
    table = pd.read_csv(path)
    assert find_pair(table, "ConvLSTM", "LRCN")["notebook"] == "02_convlstm"
    # asked the other way round, the row is turned around: a's accuracy, discordant count, interval and verdict
    stored, turned = find_pair(table, "LRCN", "ConvLSTM"), find_pair(table, "ConvLSTM", "LRCN")
    assert (stored["a"], turned["a"]) == ("lrcn (group)", "convlstm (group)")
    assert (turned["accuracy_a"], turned["only_a"]) == (stored["accuracy_b"], stored["only_b"])
    assert (turned["ci_low"], turned["ci_high"]) == (-stored["ci_high"], -stored["ci_low"])
    assert {stored["verdict"], turned["verdict"]} <= {"a better", "b better", "no clear difference"}
    if stored["verdict"] != "no clear difference":
        assert stored["verdict"] != turned["verdict"]
    assert find_pair(table, "LRCN", "CNN") is None
    with pytest.raises(ValueError, match="tests a pair twice"):
        record_comparisons(tmp_path / "other.csv", [dict(again, a="x", b="y"), dict(again, a="y", b="x")])
    # a pair belongs to the first notebook that tests it: 02 recording it again drops a later notebook's copy
    other = tmp_path / "late.csv"
    record_comparisons(other, [again])  # 05 tested it while 02's row was missing
    table = record_comparisons(other, [compare(*paired(both=5, only_a=1, only_b=0, neither=1), notebook="02_convlstm",
                                               a="lrcn (group)", b="convlstm (group)")])
    assert list(table.notebook) == ["02_convlstm"]


def test_unpaired_verdict_and_interval_agree_on_157_vs_150_of_160():
    """The score test said p = 0.048 ("better") while Newcombe's interval held 0; one method now decides both."""
    row = compare_unpaired(157, 160, 150, 160, notebook="01_lrcn", a="x", b="y", shared_clips=37)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(difference_interval(157, 160, 150, 160))
    assert row["ci_low"] < 0 < row["ci_high"] and row["p_value"] >= 0.05 and row["verdict"] == "no clear difference"
    assert "37 in both" in row["test"] and "160 vs 160" in row["test"]
    # everywhere on a grid, p < 0.05 exactly when the 95% interval excludes 0
    for a, b in [(116, 107), (160, 150), (120, 100), (157, 151), (90, 80), (100, 99), (160, 159)]:
        low, high = difference_interval(a, 160, b, 160)
        assert (newcombe_p_value(a, 160, b, 160) < 0.05) == (low > 0 or high < 0), (a, b)
        # and at other levels too: the p-value is the level at which the interval touches 0
        p = newcombe_p_value(a, 160, b, 160)
        if 1e-12 < p < 1:
            assert min(abs(v) for v in difference_interval(a, 160, b, 160, alpha=p)) == pytest.approx(0, abs=1e-6)


def test_paired_interval_agrees_with_mcnemar():
    for only_a, only_b in [(8, 1), (8, 2), (1, 7), (5, 5), (12, 3), (0, 6)]:
        y_true, pred_a, pred_b = paired(both=100, only_a=only_a, only_b=only_b, neither=10)
        p = mcnemar_exact(y_true, pred_a, pred_b)[2]
        low, high = paired_difference_interval(only_a, only_b, len(y_true))
        assert low <= (only_a - only_b) / len(y_true) <= high
        assert (p < 0.05) == (low > 0 or high < 0), (only_a, only_b, p, low, high)


def test_p_values_print_without_a_false_zero():
    assert format_p(0.0004) == "< 0.001" and format_p(0.0391) == "0.039" and format_p(float("nan")) == ""


def test_seed_comparison_is_welch_with_its_interval():
    from scipy import stats

    a, b = [0.988, 0.956, 0.975, 0.969, 0.975], [0.9375, 0.9125, 0.95, 0.925, 0.9375]
    row = compare_seeds(a, b, a="lrcn", b="convlstm")
    assert row["p_value"] == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue)
    assert row["ci_low"] < np.mean(a) - np.mean(b) < row["ci_high"] and row["verdict"] == "a better"
    with pytest.raises(ValueError, match="two seeds"):
        compare_seeds([0.9], b, a="x", b="y")


def test_settings_hash_changes_with_any_setting():
    base = {"EPOCHS": 25, "OPTIMIZERS": {"SGD": lambda: 0.01}, "lowercase": 1}
    assert settings_hash(base) == settings_hash({**base, "lowercase": 2})  # only UPPER_CASE names count
    assert settings_hash(base) != settings_hash({**base, "EPOCHS": 26})
    assert settings_hash(base) != settings_hash({**base, "OPTIMIZERS": {"SGD": lambda: 0.02}})


def test_compare_unpaired_uses_newcombe_for_verdict_and_interval():
    row = compare_unpaired(116, 122, 107, 122, notebook="01_lrcn", a="x", b="y")
    assert row["test"].startswith("unpaired") and set(COMPARISON_COLUMNS) <= set(row)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(difference_interval(116, 122, 107, 122))
    assert 0 < row["p_value"] < 1 and row["accuracy_a"] == pytest.approx(116 / 122)
    tie = compare_unpaired(10, 20, 15, 30, notebook="01_lrcn", a="x", b="y")
    assert tie["p_value"] == 1.0 and tie["verdict"] == "no clear difference"
    assert compare_unpaired(20, 20, 10, 20, notebook="01_lrcn", a="x", b="y")["verdict"] == "a better"


def test_standard_error_is_the_binomial_one_and_survives_no_clips():
    assert standard_error(0.5, 100) == pytest.approx(0.05)
    assert standard_error(0.9, 400) == pytest.approx(math.sqrt(0.9 * 0.1 / 400))
    assert standard_error(1.0, 10) == 0.0 and standard_error(0.5, 0) == pytest.approx(0.5)


def test_notebook_09_s_leak_rows_and_notebook_01_s_rows_both_survive(tmp_path):
    """Notebook 09 records under its own name: 01's rows and 09's are two families, whichever ran last; rows 09
    recorded under 01's name before are replaced, not refused as a pair tested twice."""
    from studies.leak import FORMERLY, NOTEBOOK

    path = tmp_path / "comparisons.csv"
    leak = [compare_unpaired(148, 160, 158, 160, notebook=NOTEBOOK, a="lrcn (random_clip)", b="lrcn (group)"),
            compare(*paired(both=20, only_a=138, only_b=0, neither=2), notebook=NOTEBOOK, a="lrcn (group)",
                    b="memoriser (group)")]
    first = compare(*paired(both=10, only_a=9, only_b=1, neither=1), notebook="01_lrcn", a="lrcn", b="x")
    old = [{**row, "notebook": "01_lrcn", "family": "01_lrcn"} for row in leak]  # as 09 recorded them before
    record_comparisons(path, old)
    record_comparisons(path, [first])  # 01 records its family: 09's old rows under its name go
    record_comparisons(path, leak, formerly=FORMERLY)
    table = record_comparisons(path, [first])  # 01 again: 09's rows stay
    assert NOTEBOOK == "09_leak"
    assert sorted(zip(table.notebook, table.a, table.b, strict=True)) == [
        ("01_lrcn", "lrcn", "x"), ("09_leak", "lrcn (group)", "memoriser (group)"),
        ("09_leak", "lrcn (random_clip)", "lrcn (group)")]
    assert table.set_index("notebook").family.to_dict() == {"01_lrcn": "01_lrcn", "09_leak": "09_leak"}
    table = record_comparisons(path, leak, formerly=FORMERLY)  # 09 again: 01's row stays
    assert len(table) == 3 and set(table.notebook) == {"01_lrcn", "09_leak"}
    # a family of one is not adjusted: each keeps its own Holm
    assert (table.p_adjusted[table.notebook == "01_lrcn"] == table.p_value[table.notebook == "01_lrcn"]).all()

    stale = pd.concat([pd.read_csv(path)[lambda t: t.notebook == "01_lrcn"],
                       pd.DataFrame(old)])  # 09's rows under 01's name
    stale.to_csv(path, index=False)
    table = record_comparisons(path, leak, formerly=FORMERLY)
    assert sorted(table.notebook) == ["01_lrcn", "09_leak", "09_leak"]
    with pytest.raises(ValueError, match="tested twice"):  # without the former name: refused, as before
        stale.to_csv(path, index=False)
        record_comparisons(path, leak)
