"""Notebook 05's table in the README report, and paper 002's figures kept apart.

The table's rows (latency, GFLOPs, robustness per model) are computed in notebook 05, which
`pytest --nbmake` runs in the quick profile; its FLOP counter (defined in the notebook) has its own
tests, tests/test_flops.py, and so do its perturbations, tests/test_robustness.py.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers.results import write_table
from scripts.readme import section_model_comparison
from tests.notebook_defs import definitions

# paper 002's Table 4.1 is defined in notebook 05, the one place that shows it
NB = definitions(Path(__file__).resolve().parents[1] / "notebooks/05_model_comparison.ipynb",
                 names=("PAPER002_TABLE41", "paper002_table"))


def test_report_section_quotes_the_comparison_table(tmp_path):
    table = pd.DataFrame({"model": ["toy", "toy2"], "accuracy": [0.5, 0.75], "trained_in": ["01_lrcn", "05"]})
    write_table(table, tmp_path / "model_comparison.csv")
    section = section_model_comparison(tmp_path)
    assert "| toy2 |" in section and "model_comparison.csv" in section


def test_paper002_table_is_marked_as_literature():
    table = NB.paper002_table()
    assert list(table.index) == list(NB.PAPER002_TABLE41)
    assert "not comparable" in table.index.name
    assert table.loc["CNNs", "gflops"].startswith("7.2")
