"""What the numbers say, written by code: the prose of a notebook's findings, from its results.

A sentence like "Adam wins here" goes stale the moment the data or a seed changes. The
findings below are computed from the tables a notebook has just produced, and every
comparison is judged against the binomial standard error of the held-out accuracy, so a
difference inside the noise is called a tie rather than a result.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from helpers.papers import PAPER000_TABLES
from helpers.synthetic import REVERSED_PAIRS


def standard_error(accuracy: float, num_clips: int) -> float:
    """Binomial standard error of an accuracy measured on ``num_clips`` clips."""
    return math.sqrt(max(accuracy * (1.0 - accuracy), 0.0) / max(num_clips, 1))


def _noise_word(difference: float, two_se: float) -> str:
    return "within" if abs(difference) <= two_se else "beyond"


def _listing(values: Mapping[str, float]) -> str:
    return ", ".join(f"{name} {value:.3f}" for name, value in values.items())


def paper000_findings(*, table: pd.DataFrame, optimizers: pd.DataFrame, alphas: pd.DataFrame,
                      within_pair: Mapping[str, float | None], pair_clips: int, raw_rnn_accuracy: float,
                      raw_rnn_train_accuracy: float, num_classes: int, num_test: int, alpha: float = 0.7,
                      reversed_pairs: pd.DataFrame | None = None) -> str:
    """Notebook 03's findings as Markdown bullets, from the numbers it computed.

    Args:
        table: ``results/paper000.csv``: ``model, set, loss, accuracy, ...`` for ``cnn``,
            ``rnn``, ``hybrid`` and sets ``training`` / ``validation`` (held-out groups).
        optimizers: ``results/paper000_optimizers.csv``: ``optimizer, accuracy, loss, ...``.
        alphas: ``results/paper000_alpha.csv``: ``alpha, validation_accuracy, ...``.
        within_pair: Per model, the share of held-out clips of the time-reversed pairs whose
            own class beats its twin (None when the data has no pairs).
        pair_clips: Number of those clips.
        raw_rnn_accuracy, raw_rnn_train_accuracy: The RNN on raw pixels (the ablation),
            held out and on its training clips.
        num_classes: Classes of the data (chance = 1 / num_classes).
        num_test: Held-out clips (the standard errors' sample size).
        alpha: The paper's fusion weight.
        reversed_pairs: ``results/paper000_reversed_pairs.csv`` (``model, class, accuracy, ...``),
            for the per-pair accuracy of the order-aware models (RNN, hybrid); optional.

    Returns:
        Markdown: one bullet per finding.
    """
    val = table[table.set == "validation"].set_index("model")["accuracy"]
    train = table[table.set == "training"].set_index("model")["accuracy"]
    ranked = val.sort_values(ascending=False)
    chance = 1.0 / num_classes
    two_se = 2 * standard_error(float(ranked.mean()), num_test)
    best, second = ranked.index[0], ranked.index[1]
    margin = float(ranked.iloc[0] - ranked.iloc[1])
    bullets = []

    agree = "as in the paper" if best == "hybrid" else "unlike the paper, where the hybrid is best"
    bullets.append(
        f"**Ranking (Tables I–III).** Held-out accuracy: {_listing(ranked)} (chance {chance:.3f}). "
        f"The {best} scores best, {agree}; its margin over the {second}, {margin:.3f}, is "
        f"{_noise_word(margin, two_se)} two standard errors (≈ {two_se:.3f})"
        + (", so the ranking is not a finding" if margin <= two_se else "")
        + f". On their own training clips: {_listing(train[ranked.index])}.")

    rnn, cnn = float(val["rnn"]), float(val["cnn"])
    if abs(rnn - cnn) <= two_se:
        versus = "about as good as the CNN"
    else:
        versus = "better than the CNN" if rnn > cnn else "worse than the CNN"
    raw_gap = raw_rnn_accuracy - chance
    chance_noise = 2 * standard_error(chance, num_test)
    if raw_gap > chance_noise:
        raw_word = "above chance, unlike the paper's Table III"
    else:
        raw_word = "at chance level, like the paper's Table III" if raw_gap >= -chance_noise else "below chance"
    bullets.append(
        f"**The RNN.** The paper's RNN learned nothing (Table III is a uniform guess, see above). Ours, "
        f"fed where things move, reaches {rnn:.3f} on unseen groups, {versus} ({cnn:.3f}). Fed raw pixels "
        f"(the ablation) it reaches {raw_rnn_accuracy:.3f}, {raw_word}, while it fits its training clips to "
        f"{raw_rnn_train_accuracy:.3f}.")

    paper_hybrid = PAPER000_TABLES["hybrid"]["validation"]["accuracy"]
    bullets.append(
        f"**Absolute values.** The paper's hybrid reports {paper_hybrid:.2f} validation accuracy, ours "
        f"{float(val['hybrid']):.3f} on groups (actors, backgrounds) never seen in training. The paper does not "
        f"say how it split UCF101; notebooks 01–02 report paper 001's clip-level split and the group split "
        f"side by side.")

    opt = optimizers.set_index("optimizer")["accuracy"]
    winner = optimizers.sort_values(["accuracy", "loss"], ascending=[False, True]).iloc[0]["optimizer"]
    spread = float(opt.max() - opt.min())
    verdict = ("a tie at this size, which neither confirms nor refutes the paper's \"SGD is best\""
               if spread <= two_se else
               ("a difference beyond the noise, in the paper's favour" if winner == "SGD"
                else "a difference beyond the noise, against the paper's \"SGD is best\""))
    bullets.append(
        f"**Optimizer.** {winner} wins here (paper 000: SGD): {_listing(opt)}. The spread, {spread:.3f}, is "
        f"{_noise_word(spread, two_se)} two standard errors: {verdict}.")

    sweep = alphas.set_index("alpha")["validation_accuracy"]
    tops = [float(a) for a in sweep.index[sweep == sweep.max()]]  # ties: every alpha at the peak
    span = float(sweep.max() - sweep.min())
    peak = f"the paper's α = {alpha:g}" if tops == [alpha] else "α = " + " and ".join(f"{a:g}" for a in tops)
    paper_alpha = (f"; the paper's {alpha:g} reaches {float(sweep[alpha]):.3f}"
                   if alpha in sweep.index and alpha not in tops else "")
    ends = [f"α = {a:g} {float(sweep[a]):.3f} vs the {name} alone {float(val[name]):.3f}"
            for a, name in ((0.0, "rnn"), (1.0, "cnn")) if a in sweep.index]
    bullets.append(
        f"**α.** The sweep peaks at {peak} ({float(sweep.max()):.3f}){paper_alpha}. The whole curve "
        f"spans {span:.3f}, {_noise_word(span, two_se)} two standard errors"
        + (": a fixed weight before a trained classifier matters little here" if span <= two_se else "")
        + (f". The endpoints are the branches alone up to initial weights: {'; '.join(ends)}." if ends else "."))

    pairs = {name: value for name, value in within_pair.items() if value is not None}
    per_pair: dict[str, float] = {}
    if reversed_pairs is not None and len(reversed_pairs):
        aware = reversed_pairs[reversed_pairs.model.isin(["rnn", "hybrid"])]
        for a, b in REVERSED_PAIRS:
            rows = aware[aware["class"].isin([a, b])]
            if len(rows):
                per_pair[f"{a}/{b}"] = float(rows.accuracy.mean())
    if pairs and pair_clips:
        coin = 2 * standard_error(0.5, pair_clips)

        def judged(value: float) -> str:
            if value > 0.5 + coin:
                return "beats the coin flip"
            return "a coin flip" if value >= 0.5 - coin else "below a coin flip"

        said = "; ".join(f"the {name} {value:.3f} ({judged(value)})" for name, value in pairs.items())
        bullets.append(
            f"**Order.** Inside the time-reversed pairs ({pair_clips} held-out clips, a coin flip ± {coin:.3f} at "
            f"two standard errors), the share of clips whose own class beats its twin: {said}. The CNN can do no "
            f"better than a coin flip, in expectation, by construction: it never sees the order of the frames."
            + (f" Per pair, the order-aware models' mean held-out accuracy: {_listing(per_pair)}."
               if per_pair else ""))

    bullets.append(
        f"**Caveat.** One seed, one split and {num_test} held-out clips: differences below two standard errors "
        f"(≈ {two_se:.3f} in accuracy) are not findings.")
    return "\n".join(f"* {bullet}" for bullet in bullets)
