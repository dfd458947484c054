"""How sure a comparison is: intervals, tests, one multiplicity policy, and ``results/comparisons.csv``.

Two models tested on the *same* clips are a paired design: what matters is the clips one
gets right and the other wrong. McNemar's exact test looks at exactly those discordant clips
(:func:`compare`); two accuracies on *different* test sets get Newcombe's interval and the
p-value that inverts it (:func:`compare_unpaired`); five-vs-five seed accuracies get Welch's
t-test (:func:`compare_seeds`). The tests and intervals come from statsmodels and SciPy.

**The policy, stated once.** Each row's interval and ``p_value`` come from one method, so
``p_value < ALPHA`` exactly when the 95 % interval of accuracy_a - accuracy_b excludes 0.
Each notebook's comparisons are one *family* (``family`` = the notebook), and the verdict
reads ``p_adjusted``: Holm-Bonferroni within the family (statsmodels' ``multipletests``), so
the chance of any false "better" in a notebook stays below ``ALPHA = 0.05``. The more
accurate model is "better" only when ``p_adjusted < ALPHA``; Holm can turn a raw "better"
into "no clear difference", never the other way. A comparison that involves a choice made
after seeing test numbers is marked ``post_hoc``: it stays in the table, outside its family's
correction and the verdict count (verdict "post hoc"). Each pair is tested once in the whole
table (:func:`record_comparisons` refuses a second row for a pair another notebook tested), and
each row carries ``settings``, a hash of the settings that made it (:func:`settings_hash`).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import optimize
from scipy import stats as scipy_stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from helpers.results import update_table

#: Significance level of every verdict in the project (applied to the Holm-adjusted p-value).
ALPHA = 0.05
#: Columns of ``results/comparisons.csv``; (notebook, a, b) is the key.
COMPARISON_COLUMNS = ["family", "notebook", "a", "b", "accuracy_a", "accuracy_b", "clips", "only_a", "only_b",
                      "test", "p_value", "p_adjusted", "ci_low", "ci_high", "post_hoc", "verdict", "settings"]
#: The test named in the ``test`` column of a paired row.
MCNEMAR_EXACT = "McNemar exact"
#: The ``test`` of two accuracies on *different* test sets: Newcombe's interval and the p-value inverting it.
UNPAIRED = "unpaired: Newcombe interval (p-value inverts it)"
#: The ``test`` of five-vs-five seed accuracies.
WELCH = "Welch t-test over seeds"
#: The verdict of a row outside the verdict count.
POST_HOC = "post hoc"
NO_DIFFERENCE = "no clear difference"


def format_p(p_value: float) -> str:
    """A p-value for text: three decimals, ``< 0.001`` below 0.001 (never ``0.000``)."""
    if p_value is None or not np.isfinite(p_value):
        return ""
    return "< 0.001" if p_value < 0.001 else f"{p_value:.3f}"


def settings_hash(settings: Mapping[str, object]) -> str:
    """A short hash of a notebook's settings (its UPPER_CASE names), stored with every row they made.

    Values are hashed as JSON; a callable (e.g. notebook 03's optimizer factories) by its source
    line, so changing a learning rate changes the hash. Names that are not UPPER_CASE are ignored.
    """
    def plain(value: object) -> object:
        if callable(value):
            try:
                return inspect.getsource(value).strip()
            except (OSError, TypeError):
                return getattr(value, "__qualname__", repr(value))
        if isinstance(value, Mapping):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value if isinstance(value, bool | int | float | str | type(None)) else repr(value)

    chosen = {name: plain(value) for name, value in settings.items() if name.isupper() and name != "SETTINGS_HASH"}
    return hashlib.sha256(json.dumps(chosen, sort_keys=True, default=repr).encode()).hexdigest()[:12]


def standard_error(accuracy: float, num_clips: int) -> float:
    """Binomial standard error of an accuracy measured on ``num_clips`` clips (notebook 03's error bars)."""
    return float(np.sqrt(max(accuracy * (1.0 - accuracy), 0.0) / max(num_clips, 1)))


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
    """Newcombe's hybrid score interval of accuracy_a - accuracy_b measured on two *different* test sets."""
    low, high = confint_proportions_2indep(int(correct_a), int(total_a), int(correct_b), int(total_b),
                                           method="newcomb", alpha=alpha)
    return float(low), float(high)


def newcombe_p_value(correct_a: int, total_a: int, correct_b: int, total_b: int) -> float:
    """The p-value that goes with Newcombe's interval: the largest ``alpha`` whose interval still holds 0.

    statsmodels gives Newcombe's interval but no test to match it, and its score test (the other
    candidate) disagrees with the interval near the edge (157/160 vs 150/160: p = 0.048 while
    Newcombe's interval holds 0) and its inverted score interval fails to converge at accuracies
    near 1. Inverting the interval itself (its bounds move monotonically with ``alpha``, Wilson
    intervals being nested) makes ``p < alpha`` exactly when the interval excludes 0.
    """
    if correct_a * total_b == correct_b * total_a:
        return 1.0

    def gap(log_alpha: float) -> float:  # > 0 while the interval at this alpha excludes 0
        low, high = difference_interval(correct_a, total_a, correct_b, total_b, alpha=float(np.exp(log_alpha)))
        return max(low, -high)

    lo, hi = np.log(1e-15), np.log(1.0 - 1e-12)
    if gap(lo) > 0:
        return 1e-15
    if gap(hi) <= 0:
        return 1.0
    return float(np.exp(optimize.brentq(gap, lo, hi, xtol=1e-10)))


def paired_difference_interval(only_a: int, only_b: int, clips: int, *, alpha: float = ALPHA) -> tuple[float, float]:
    """Interval of accuracy_a - accuracy_b on the same ``clips`` that matches McNemar's exact test.

    Given the ``only_a + only_b`` discordant clips, the difference is ``(only_a - only_b) / clips``
    = ``discordant / clips * (2 theta - 1)`` with theta the share of discordant clips ``a`` wins;
    the Clopper-Pearson interval of theta is the inversion of the exact binomial test McNemar runs,
    so the interval excludes 0 exactly when that test's p-value is below ``alpha``. NaN when no
    clip is discordant (the test has nothing to look at).
    """
    discordant = int(only_a) + int(only_b)
    if discordant == 0 or clips <= 0:
        return float("nan"), float("nan")
    low, high = proportion_confint(int(only_a), discordant, alpha=alpha, method="beta")
    scale = discordant / clips
    return float(scale * (2 * low - 1)), float(scale * (2 * high - 1))


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
    """The project's one verdict rule: the more accurate model is "better" only when ``p_value < alpha``.

    Pass the Holm-adjusted p-value (:func:`holm`); :func:`record_comparisons` does.
    """
    if p_value < alpha and accuracy_a != accuracy_b:
        return "a better" if accuracy_a > accuracy_b else "b better"
    return NO_DIFFERENCE


def holm(p_values: Sequence[float], *, alpha: float = ALPHA) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values of one family (statsmodels' ``multipletests``), same order."""
    p_values = np.asarray(p_values, dtype=float)
    if p_values.size == 0:
        return p_values
    return multipletests(p_values, alpha=alpha, method="holm")[1]


def _row(*, notebook: str, a: str, b: str, accuracy_a: float, accuracy_b: float, clips: int, only_a: float,
         only_b: float, test: str, p_value: float, ci: tuple[float, float], post_hoc: bool, settings: str,
         family: str | None, alpha: float) -> dict:
    return {"family": family or notebook, "notebook": notebook, "a": a, "b": b, "accuracy_a": accuracy_a,
            "accuracy_b": accuracy_b, "clips": clips, "only_a": only_a, "only_b": only_b, "test": test,
            "p_value": p_value, "p_adjusted": float("nan") if post_hoc else p_value, "ci_low": ci[0],
            "ci_high": ci[1], "post_hoc": bool(post_hoc),
            "verdict": POST_HOC if post_hoc else verdict(accuracy_a, accuracy_b, p_value, alpha=alpha),
            "settings": settings}


def compare(y_true: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray, *, notebook: str, a: str, b: str,
            post_hoc: bool = False, settings: str = "", family: str | None = None, alpha: float = ALPHA) -> dict:
    """One row of ``results/comparisons.csv``: models ``a`` and ``b`` on the same clips, McNemar's exact test.

    Args:
        y_true: Labels ``(num_clips,)``.
        pred_a, pred_b: Predicted labels ``(num_clips,)`` of ``a`` and ``b``.
        notebook: Which notebook made the comparison (e.g. ``"01_lrcn"``); also the family by default.
        a, b: Names of the two models or settings.
        post_hoc: The comparison involves a choice made after seeing test numbers.
        settings: :func:`settings_hash` of the settings that made it.

    Returns:
        A dict with :data:`COMPARISON_COLUMNS`; ``p_adjusted`` and ``verdict`` are the family of one
        until :func:`record_comparisons` adjusts the whole family.
    """
    only_a, only_b, p_value = mcnemar_exact(y_true, pred_a, pred_b)
    y_true = np.asarray(y_true)
    return _row(notebook=notebook, a=a, b=b, accuracy_a=float(np.mean(np.asarray(pred_a) == y_true)),
                accuracy_b=float(np.mean(np.asarray(pred_b) == y_true)), clips=int(y_true.size), only_a=only_a,
                only_b=only_b, test=MCNEMAR_EXACT, p_value=p_value,
                ci=paired_difference_interval(only_a, only_b, int(y_true.size), alpha=alpha), post_hoc=post_hoc,
                settings=settings, family=family, alpha=alpha)


def compare_unpaired(correct_a: int, total_a: int, correct_b: int, total_b: int, *, notebook: str, a: str, b: str,
                     shared_clips: int | None = None, post_hoc: bool = False, settings: str = "",
                     family: str | None = None, alpha: float = ALPHA) -> dict:
    """One row of ``results/comparisons.csv`` for two accuracies measured on *different* test sets.

    No clip-by-clip pairing exists (e.g. notebook 01's LRCN under the group and the random_clip
    split), so McNemar's test does not apply. One method decides: Newcombe's interval of
    accuracy_a - accuracy_b (:func:`difference_interval`) and the p-value that inverts it
    (:func:`newcombe_p_value`), so the verdict and the interval cannot disagree. The method treats
    the two test sets as independent samples; ``shared_clips`` (clips in both test sets) is written
    into the ``test`` column, since a shared clip makes that assumption only approximate.

    Returns:
        A dict with :data:`COMPARISON_COLUMNS`; ``clips`` is ``total_a`` (``total_b`` is in ``test``).
    """
    test = f"{UNPAIRED}; {total_a} vs {total_b} test clips"
    if shared_clips is not None:
        test += (f", {shared_clips} in both (the sets overlap: not independent)" if shared_clips
                 else ", none in both")
    return _row(notebook=notebook, a=a, b=b, accuracy_a=correct_a / total_a, accuracy_b=correct_b / total_b,
                clips=int(total_a), only_a=float("nan"), only_b=float("nan"), test=test,
                p_value=newcombe_p_value(correct_a, total_a, correct_b, total_b),
                ci=difference_interval(correct_a, total_a, correct_b, total_b, alpha=alpha), post_hoc=post_hoc,
                settings=settings, family=family, alpha=alpha)


def compare_seeds(accuracies_a: Sequence[float], accuracies_b: Sequence[float], *, a: str, b: str,
                  alpha: float = ALPHA) -> dict:
    """Welch's t-test (SciPy) of two models' accuracies over seeds, with its interval of the mean difference.

    Each seed is one training run, so the test asks whether the difference survives the training's
    own variation (initial weights, batch order), which a single-seed McNemar test cannot see.

    Returns:
        ``a, b, mean_a, mean_b, seeds_a, seeds_b, test, p_value, ci_low, ci_high, verdict``
        (the verdict at ``alpha`` on the raw p-value: these rows form no family).
    """
    x, y = np.asarray(accuracies_a, float), np.asarray(accuracies_b, float)
    if len(x) < 2 or len(y) < 2:
        raise ValueError(f"need two seeds or more per model, got {len(x)} and {len(y)}")
    if np.ptp(x) == 0 and np.ptp(y) == 0:  # no spread at all: t is undefined
        p_value, low, high = (1.0 if x[0] == y[0] else 0.0), x[0] - y[0], x[0] - y[0]
    else:
        result = scipy_stats.ttest_ind(x, y, equal_var=False)
        p_value = float(result.pvalue)
        low, high = (float(v) for v in result.confidence_interval(confidence_level=1 - alpha))
    return {"a": a, "b": b, "mean_a": float(x.mean()), "mean_b": float(y.mean()), "seeds_a": len(x),
            "seeds_b": len(y), "test": WELCH, "p_value": p_value, "ci_low": low, "ci_high": high,
            "verdict": verdict(float(x.mean()), float(y.mean()), p_value, alpha=alpha)}


def adjust(table: pd.DataFrame, *, alpha: float = ALPHA) -> pd.DataFrame:
    """``p_adjusted`` (Holm within each ``family``, post hoc rows left out) and the verdict read from it."""
    table = table.copy()
    post_hoc = table["post_hoc"].map(lambda v: str(v).strip().lower() in {"true", "1", "1.0"}).astype(bool)
    table["post_hoc"] = post_hoc
    table["p_adjusted"] = np.nan
    for _, index in table[~post_hoc].groupby("family").groups.items():
        table.loc[index, "p_adjusted"] = holm(table.loc[index, "p_value"].to_numpy(), alpha=alpha)
    table["verdict"] = [POST_HOC if ph else verdict(r.accuracy_a, r.accuracy_b, r.p_adjusted, alpha=alpha)
                        for ph, r in zip(post_hoc, table.itertuples(), strict=True)]
    return table


def pair_key(a: str, b: str) -> frozenset[str]:
    """The unordered pair of model names, spelled as any notebook spells it (case and a ``(group)`` suffix dropped)."""
    def norm(name: str) -> str:
        return re.sub(r"\s*\(group\)$", "", str(name).strip()).lower()
    return frozenset((norm(a), norm(b)))


#: A row's columns that belong to its ``a`` / ``b`` side: swapped when :func:`find_pair` turns a row around.
_SIDES = (("a", "b"), ("accuracy_a", "accuracy_b"), ("only_a", "only_b"))
_FLIPPED_VERDICT = {"a better": "b better", "b better": "a better"}


def find_pair(table: pd.DataFrame, a: str, b: str) -> pd.Series | None:
    """The row of ``table`` that tests ``a`` against ``b`` (either order, any notebook's spelling), or None.

    The row comes oriented as asked: stored as ``(b, a)``, its sides, the interval of ``a - b`` and the
    verdict are turned around, so ``accuracy_a`` is always ``a``'s.
    """
    key = pair_key(a, b)
    hits = [i for i, r in table.iterrows() if pair_key(r["a"], r["b"]) == key]
    if not hits:
        return None
    row = table.loc[hits[0]].copy()
    if pair_key(row["a"], "") != pair_key(a, ""):  # stored the other way round
        for left, right in _SIDES:
            if left in row.index and right in row.index:
                row[left], row[right] = row[right], row[left]
        if "ci_low" in row.index and "ci_high" in row.index:
            row["ci_low"], row["ci_high"] = -row["ci_high"], -row["ci_low"]
        if "verdict" in row.index:
            row["verdict"] = _FLIPPED_VERDICT.get(row["verdict"], row["verdict"])
    return row


def notebook_of(rows: pd.DataFrame) -> str:
    """The notebook(s) that made ``rows``, for messages."""
    return ", ".join(sorted(set(map(str, rows["notebook"]))))


def merge_comparisons(old: pd.DataFrame, rows: Sequence[dict] | pd.DataFrame, *, alpha: float = ALPHA,
                      formerly: Sequence[str] = ()) -> pd.DataFrame:
    """The comparisons table ``old`` with one notebook's ``rows`` recorded, Holm-adjusted (pure: no files).

    The rows replace *every* old row of their notebooks (a notebook records its whole family at
    once, so a pair it no longer tests, or a row made with other settings, does not survive);
    the other notebooks' rows stay. A pair belongs to the first notebook in reading order that
    tests it: an old row of a *later* notebook for the same pair is dropped (it was tested there
    only because this notebook's row was missing). Then every family is adjusted again
    (:func:`adjust`). A table from before this policy (no ``family`` column) is not kept: its rows
    lack the columns the verdicts need, and the notebooks write them again. ``formerly``: the names the
    rows' notebook recorded under before it was renamed; its old rows of the pairs ``rows`` test are replaced.

    Raises:
        ValueError: A pair is tested twice in ``rows``, or an earlier notebook already tested it:
            read that row (:func:`find_pair`) instead of testing again.

    Returns:
        The whole table, sorted by family, notebook and pair.
    """
    new = pd.DataFrame(list(rows) if not isinstance(rows, pd.DataFrame) else rows)
    if "family" not in old.columns:
        old = old.iloc[0:0].reindex(columns=COMPARISON_COLUMNS)
    old = old[~old["notebook"].isin(set(new["notebook"]))]
    keys = [pair_key(a, b) for a, b in zip(new["a"], new["b"], strict=True)]
    if len(set(keys)) < len(keys):
        raise ValueError(f"{notebook_of(new)} tests a pair twice: {sorted(map(sorted, keys))}")
    tested = np.array([pair_key(a, b) in set(keys) for a, b in zip(old["a"], old["b"], strict=True)], dtype=bool)
    renamed = old["notebook"].isin(set(formerly)).to_numpy() & tested  # these rows, recorded under a former name
    owner = {pair_key(r.a, r.b): r.notebook for r in old[~renamed].itertuples()}
    for key, r in zip(keys, new.itertuples(), strict=True):
        if key in owner and owner[key] < r.notebook:
            raise ValueError(f"{r.a} vs {r.b} is tested twice ({owner[key]} and {r.notebook}): read the existing row")
    old = old[~tested]
    table = adjust(pd.concat([old.reindex(columns=COMPARISON_COLUMNS), new.reindex(columns=COMPARISON_COLUMNS)],
                             ignore_index=True), alpha=alpha)
    table = table.sort_values(["family", "notebook", "a", "b"], kind="stable").reset_index(drop=True)
    return table


def record_comparisons(path: str | os.PathLike, rows: Sequence[dict] | pd.DataFrame, *,
                       alpha: float = ALPHA, formerly: Sequence[str] = ()) -> pd.DataFrame:
    """Write one notebook's comparisons into ``path`` (``results/comparisons.csv``), Holm-adjusted, atomically.

    The policy is :func:`merge_comparisons`'s; reading and writing the file, :func:`helpers.results.update_table`'s.

    Raises:
        ValueError: A pair is tested twice (see :func:`merge_comparisons`).

    Returns:
        The whole table.
    """
    text_columns = dict.fromkeys(["family", "notebook", "a", "b", "test", "verdict", "settings"], str)
    return update_table(path, lambda old: merge_comparisons(old, rows, alpha=alpha, formerly=formerly),
                        columns=COMPARISON_COLUMNS, dtype=text_columns)
