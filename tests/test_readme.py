"""scripts/readme.py: sections generated from results/, rounded to the precision each measurement has."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from scripts.readme import main, update_readme

TOY_DATASET = {"dataset": "toy", "num_clips": 8, "num_classes": 2, "num_frames": 20, "image_size": 64}


def toy_readme(tmp_path, sections: dict[str, str], tables: dict[str, list[dict]]):
    """A README with the marked ``sections`` (name -> current body) and a results folder holding
    ``tables`` (file name -> rows) and the toy dataset.json; returns ``(readme, results)``."""
    readme = tmp_path / "README.md"
    readme.write_text("# x\n" + "".join(f"<!-- BEGIN {name} -->\n{body}\n<!-- END {name} -->\n"
                                          for name, body in sections.items()))
    results = tmp_path / "results"
    results.mkdir()
    (results / "dataset.json").write_text(json.dumps(TOY_DATASET))
    for name, rows in tables.items():
        pd.DataFrame(rows).to_csv(results / name, index=False)
    return readme, results


def test_readme_tables_round_to_what_was_measured(tmp_path):
    readme, results = toy_readme(tmp_path, {"paper001": "old", "model_comparison": "old"}, {
        "paper001.csv": [{"model": "lrcn", "protocol": "group", "loss": 2.0783064365386963, "accuracy": 0.125,
                          "ms_per_step": 511.7873}],
        "model_comparison.csv": [{"model": "LRCN", "accuracy": 0.8125, "params": 73192, "gflops": 0.13765428,
                                  "latency_ms": 4.816212000150699, "train_s": 123.456, "robust_noise": 0.6875}]})
    assert update_readme(readme, results) == ["paper001", "model_comparison"]
    text = readme.read_text()
    assert "<!-- BEGIN paper001 -->" in text and "<!-- END model_comparison -->" in text
    assert "| lrcn | group | 2.0783 | 0.1250 | 511.8 |" in text  # ms to 0.1 ms, not 511.7873
    assert "| LRCN | 0.812 | 73192 | 0.138 | 4.8 | 123 | 0.688 |" in text  # seconds to 1 s, rates to 3 places
    assert "511.7873" not in text and "4.8162" not in text


def test_readme_sections_option_refreshes_only_the_named_sections(tmp_path):
    readme, results = toy_readme(tmp_path, {"paper001": "kept 0.9875", "comparisons": "old"}, {
        "comparisons.csv": [{"notebook": "01_lrcn", "a": "lrcn", "b": "memoriser", "accuracy_a": 0.9,
                             "accuracy_b": 0.1, "test": "mcnemar_exact", "p_value": 0.001, "verdict": "lrcn better"}]})
    assert main([str(readme), str(results), "--sections", "comparisons"]) == 0
    text = readme.read_text()
    assert "kept 0.9875" in text  # paper001.csv is missing, yet its section stays as it was
    assert "| 01_lrcn | lrcn | memoriser | 0.900 |" in text and "Rows from notebooks 01_lrcn." in text
    with pytest.raises(SystemExit):
        main([str(readme), str(results), "--sections", "nonsense"])


def test_deployment_table_is_generated_with_its_columns(tmp_path):
    readme, results = toy_readme(tmp_path, {"deployment": "old"}, {})
    assert update_readme(readme, results) == ["deployment"]
    assert "run `make run` (notebook 06)" in readme.read_text()
    pd.DataFrame([{"model": "LRCN", "variant": "tflite_int8", "size_kb": 86.17, "latency_ms": 4.4751,
                   "accuracy": 0.98125, "agreement": 0.99375}]).to_csv(results / "deployment.csv", index=False)
    update_readme(readme, results)
    text = readme.read_text()
    assert "| model | variant | size_kb | latency_ms | accuracy | agreement |" in text
    assert "| LRCN | tflite_int8 | 86.170 | 4.5 | 0.981 | 0.994 |" in text


def test_readme_sections_are_generated_from_results(tmp_path):
    readme, results = toy_readme(tmp_path, {"paper001": "stale 0.9999", "bench": "old"}, {
        "paper001.csv": [{"model": "lrcn", "protocol": "group", "loss": 0.25, "accuracy": 0.875, "ms_per_step": 12.5}]})
    assert update_readme(readme, results) == ["paper001", "bench"]
    text = readme.read_text()
    assert "stale" not in text and "0.8750" in text and "toy" in text and "0.9508" in text
    assert "bench.md` is missing" in text


def test_make_run_time_comes_from_the_last_measured_run(tmp_path):
    from scripts.readme import section_make_run

    results = tmp_path / "results"
    results.mkdir()
    row = ("| `make run` wall time, s | 3,787 |  |  |  | from results/make_run.json; per notebook: 00_data 13 s, "
           "02_convlstm 1866 s, 05_model_comparison 611 s |")
    text = section_make_run(results, readme_text=f"x\n{row}\ny")  # no make_run.json: the benchmark table's row
    assert "3,787 s, about 1.1 hours" in text and "02_convlstm, took 1,866 s" in text and "benchmark table" in text
    (results / "make_run.json").write_text(json.dumps({"make_run_s": 1800, "notebooks_s": {"01_lrcn": 900}}))
    text = section_make_run(results, readme_text=row)
    assert "1,800 s, about 0.5 hours" in text and "01_lrcn, took 900 s" in text and "make_run.json" in text
    (results / "make_run.json").unlink()
    assert "has not been timed yet" in section_make_run(results)


def test_a_missing_extraction_table_is_not_announced_as_the_latest_table(tmp_path):
    from scripts.readme import section_bench_extraction

    assert "latest table" not in section_bench_extraction(tmp_path)
    (tmp_path / "bench_extraction.md").write_text("| measure |\n")
    assert section_bench_extraction(tmp_path).endswith("its latest table:\n\n| measure |\n")
