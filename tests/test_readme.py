"""scripts/readme.py: generated tables round to the precision each measurement has."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from scripts.readme import main, update_readme


def test_readme_tables_round_to_what_was_measured(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# x\n<!-- BEGIN paper001 -->\nold\n<!-- END paper001 -->\n"
                      "<!-- BEGIN model_comparison -->\nold\n<!-- END model_comparison -->\n")
    results = tmp_path / "results"
    results.mkdir()
    (results / "dataset.json").write_text(json.dumps({"dataset": "toy", "num_clips": 8, "num_classes": 2,
                                                      "num_frames": 20, "image_size": 64}))
    pd.DataFrame([{"model": "lrcn", "protocol": "group", "loss": 2.0783064365386963, "accuracy": 0.125,
                   "ms_per_step": 511.7873}]).to_csv(results / "paper001.csv", index=False)
    pd.DataFrame([{"model": "LRCN", "accuracy": 0.8125, "params": 73192, "gflops": 0.13765428,
                   "latency_ms": 4.816212000150699, "train_s": 123.456, "robust_noise": 0.6875}]
                 ).to_csv(results / "model_comparison.csv", index=False)
    assert update_readme(readme, results) == ["paper001", "model_comparison"]
    text = readme.read_text()
    assert "<!-- BEGIN paper001 -->" in text and "<!-- END model_comparison -->" in text
    assert "| lrcn | group | 2.0783 | 0.1250 | 511.8 |" in text  # ms to 0.1 ms, not 511.7873
    assert "| LRCN | 0.812 | 73192 | 0.138 | 4.8 | 123 | 0.688 |" in text  # seconds to 1 s, rates to 3 places
    assert "511.7873" not in text and "4.8162" not in text


def test_readme_sections_option_refreshes_only_the_named_sections(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("<!-- BEGIN paper001 -->\nkept 0.9875\n<!-- END paper001 -->\n"
                      "<!-- BEGIN comparisons -->\nold\n<!-- END comparisons -->\n")
    results = tmp_path / "results"
    results.mkdir()
    pd.DataFrame([{"notebook": "01_lrcn", "a": "lrcn", "b": "memoriser", "accuracy_a": 0.9, "accuracy_b": 0.1,
                   "test": "mcnemar_exact", "p_value": 0.001, "verdict": "lrcn better"}]
                 ).to_csv(results / "comparisons.csv", index=False)
    assert main([str(readme), str(results), "--sections", "comparisons"]) == 0
    text = readme.read_text()
    assert "kept 0.9875" in text  # paper001.csv is missing, yet its section stays as it was
    assert "| 01_lrcn | lrcn | memoriser | 0.900 |" in text and "Rows from notebooks 01_lrcn." in text
    with pytest.raises(SystemExit):
        main([str(readme), str(results), "--sections", "nonsense"])


def test_deployment_table_is_generated_with_its_columns(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# x\n<!-- BEGIN deployment -->\nold\n<!-- END deployment -->\n")
    results = tmp_path / "results"
    results.mkdir()
    assert update_readme(readme, results) == ["deployment"]
    assert "run `make run` (notebook 06)" in readme.read_text()
    pd.DataFrame([{"model": "LRCN", "variant": "tflite_int8", "size_kb": 86.17, "latency_ms": 4.4751,
                   "accuracy": 0.98125, "agreement": 0.99375}]).to_csv(results / "deployment.csv", index=False)
    update_readme(readme, results)
    text = readme.read_text()
    assert "| model | variant | size_kb | latency_ms | accuracy | agreement |" in text
    assert "| LRCN | tflite_int8 | 86.170 | 4.5 | 0.981 | 0.994 |" in text
