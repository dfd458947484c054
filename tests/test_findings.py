"""Notebook 03's findings are written from its numbers, and judged against the noise."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers.findings import paper000_findings, standard_error


def _inputs(*, cnn: float, rnn: float, hybrid: float, sgd: float = 0.7, adam: float = 0.7,
            within: float = 0.5) -> dict:
    table = pd.DataFrame([{"model": m, "set": s, "accuracy": a if s == "validation" else 1.0}
                          for m, a in (("cnn", cnn), ("rnn", rnn), ("hybrid", hybrid))
                          for s in ("training", "validation")])
    optimizers = pd.DataFrame({"optimizer": ["SGD", "Adam"], "accuracy": [sgd, adam], "loss": [0.5, 0.5]})
    alphas = pd.DataFrame({"alpha": [0.0, 0.7, 1.0], "validation_accuracy": [rnn, hybrid, cnn]})
    pairs = pd.DataFrame({"model": ["rnn", "rnn", "hybrid", "hybrid"], "class": ["ZoomIn", "ZoomOut"] * 2,
                          "accuracy": [0.4, 0.6, 0.5, 0.5]})
    return {"table": table, "optimizers": optimizers, "alphas": alphas,
            "within_pair": {"cnn": 0.5, "rnn": within, "hybrid": within}, "pair_clips": 100,
            "raw_rnn_accuracy": 0.13, "raw_rnn_train_accuracy": 0.9, "num_classes": 8, "num_test": 400,
            "reversed_pairs": pairs}


def test_standard_error_is_the_binomial_one():
    assert standard_error(0.5, 100) == pytest.approx(0.05)
    assert standard_error(1.0, 10) == 0.0


def test_a_margin_inside_the_noise_is_called_a_tie():
    text = paper000_findings(**_inputs(cnn=0.70, rnn=0.71, hybrid=0.72))
    assert "The hybrid scores best, as in the paper" in text
    assert "so the ranking is not a finding" in text
    assert "a tie at this size" in text and "about as good as the CNN" in text


def test_a_clear_winner_that_is_not_the_paper_s_is_said_so():
    text = paper000_findings(**_inputs(cnn=0.95, rnn=0.60, hybrid=0.70, sgd=0.9, adam=0.6, within=0.9))
    assert "The cnn scores best, unlike the paper, where the hybrid is best" in text
    assert "beyond two standard errors" in text and "not a finding" not in text.split("**The RNN")[0]
    assert "SGD wins here" in text and "in the paper's favour" in text
    assert "worse than the CNN" in text
    assert "the rnn 0.900 (beats the coin flip)" in text
    assert "ZoomIn/ZoomOut 0.500" in text
    assert "at chance level" in text  # raw-pixel RNN 0.13 against chance 0.125


def test_alpha_ties_at_the_peak_are_all_named():
    inputs = _inputs(cnn=0.70, rnn=0.80, hybrid=0.80)  # alpha 0 (the rnn) and 0.7 (the hybrid) tie
    text = paper000_findings(**inputs)
    assert "The sweep peaks at α = 0 and 0.7 (0.800)." in text
    inputs["alphas"].loc[0, "validation_accuracy"] = 0.5
    assert "The sweep peaks at the paper's α = 0.7 (0.800)." in paper000_findings(**inputs)


def test_every_number_printed_comes_from_the_inputs():
    text = paper000_findings(**_inputs(cnn=0.611, rnn=0.622, hybrid=0.633))
    for value in ("0.611", "0.622", "0.633", "400 held-out clips"):
        assert value in text
