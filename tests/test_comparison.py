"""Notebook 05's table in the README report, and paper 002's figures kept apart.

The table's rows (latency, GFLOPs, robustness per model) are computed in notebook 05, which
`pytest --nbmake` runs in the quick profile; its FLOP counter (helpers.flops) has its own
tests, tests/test_flops.py, and so do its perturbations (helpers.robustness), tests/test_robustness.py.
"""

from __future__ import annotations

import pandas as pd

from helpers.papers import PAPER002_TABLE41
from helpers.results import write_table
from scripts.readme import section_model_comparison


def test_report_section_quotes_the_comparison_table(tmp_path):
    table = pd.DataFrame({"model": ["toy", "toy2"], "accuracy": [0.5, 0.75], "trained_in": ["01_lrcn", "05"]})
    write_table(table, tmp_path / "model_comparison.csv")
    section = section_model_comparison(tmp_path)
    assert "| toy2 |" in section and "model_comparison.csv" in section


def test_paper002_table_keeps_the_families_and_columns_as_printed():
    table = pd.DataFrame(PAPER002_TABLE41).T  # as notebook 05 shows it
    assert list(table.index) == ["CNNs", "RNNs", "GANs", "Hybrid Models"]
    assert list(table.columns) == ["accuracy", "gflops", "robustness", "task", "complexity"]
    assert table.loc["CNNs", "gflops"].startswith("7.2") and table.loc["RNNs", "robustness"] == "Medium"


def test_comparisons_section_prints_small_p_values_and_the_policy(tmp_path):
    """Families as notebooks 02 and 05 record them: the LRCN-vs-ConvLSTM pair once (02's), Holm per family."""
    import numpy as np

    from helpers.stats import compare, find_pair, record_comparisons
    from scripts.readme import section_comparisons

    y = np.zeros(160, int)
    right = {"lrcn": np.r_[np.zeros(158), np.ones(2)], "convlstm": np.r_[np.ones(8), np.zeros(150), np.ones(2)],
             "cnn": np.r_[np.ones(40), np.zeros(120)]}
    path = tmp_path / "comparisons.csv"
    record_comparisons(path, [compare(y, right["lrcn"], right["convlstm"], notebook="02_convlstm",
                                      a="lrcn (group)", b="convlstm (group)")])
    table = pd.read_csv(path)
    rows = [compare(y, right["lrcn"], right["cnn"], notebook="05_model_comparison", a="LRCN", b="CNN")]
    if find_pair(table, "LRCN", "ConvLSTM") is None:  # notebook 05 reads 02's row instead of testing again
        rows.append(compare(y, right["lrcn"], right["convlstm"], notebook="05_model_comparison", a="LRCN",
                            b="ConvLSTM"))
    table = record_comparisons(path, rows)
    pairs = [frozenset((a.lower().removesuffix(" (group)"), b.lower().removesuffix(" (group)")))
             for a, b in zip(table.a, table.b, strict=True)]
    assert len(pairs) == len(set(pairs)) == 2
    text = section_comparisons(tmp_path)
    assert "< 0.001" in text and "| 0.000 |" not in text
    assert "Holm" in text and "2 of 2 comparisons name a better model" in text
