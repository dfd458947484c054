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


def test_bench_table_quotes_the_latest_make_run(tmp_path):
    """The benchmark quotes make_run.json; a full run after the benchmark updates its row, so the README's *How
    long* and the benchmark table name the same run (they said 3,323 s and 4,383 s)."""
    from scripts.readme import section_bench

    row = ("| `make run` wall time, s | 4,383 |  |  |  | from results/make_run.json; per notebook: 00_data 43 s, "
           "02_convlstm 2733 s |")
    (tmp_path / "bench.md").write_text(f"| what | ours | a | b | c | note |\n{row}\n| other | 1 |  |  |  | x |\n")
    assert section_bench(tmp_path) == (tmp_path / "bench.md").read_text()  # no make_run.json: as the bench wrote it
    (tmp_path / "make_run.json").write_text(json.dumps({"make_run_s": 3323, "jobs": 2, "notebooks_s": {
        "00_data": 12, "02_convlstm": 1986}, "ran": ["00_data", "02_convlstm"], "skipped": []}))
    text = section_bench(tmp_path)
    assert ("| `make run` wall time, s | 3,323 |  |  |  | from " + str(tmp_path / "make_run.json") + "; JOBS=2; "
            "per notebook: 00_data 12 s, 02_convlstm 1986 s |") in text
    assert "4,383" not in text and "| other | 1 |  |  |  | x |" in text


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
    assert "JOBS" not in text and "busy" not in text  # a record from before make run wrote them
    (results / "make_run.json").write_text(json.dumps({"make_run_s": 1800, "jobs": 2, "notebooks_s": {"01_lrcn": 900},
                                                       "cpu_busy_pct": 97.3, "cpu_steal_pct": 0.04}))
    text = section_make_run(results)
    assert "with `JOBS=2`, the machine's CPUs 97 % busy over it (every process) and 0.0 % stolen" in text
    # an incremental rerun that skipped every notebook: the full time is the sum of their last executions, not 0 s
    (results / "make_run.json").write_text(json.dumps({"make_run_s": 0, "notebooks_s": {"01_lrcn": 900, "02": 700},
                                                       "ran": [], "skipped": ["01_lrcn", "02"]}))
    text = section_make_run(results)
    assert "took 1,600 s" in text and "ran 0 of them in 0 s and skipped the rest" in text
    (results / "make_run.json").unlink()
    assert "has not been timed yet" in section_make_run(results)


def test_a_missing_extraction_table_is_not_announced_as_the_latest_table(tmp_path):
    from scripts.readme import section_bench_extraction

    assert "latest table" not in section_bench_extraction(tmp_path)
    (tmp_path / "bench_extraction.md").write_text("| measure |\n")
    assert section_bench_extraction(tmp_path).endswith("its latest table:\n\n| measure |\n")


def toy_results(folder, *, embedded: bool = True):
    """A results folder like a full run's: every file the report reads."""
    import numpy as np

    from helpers.stats import compare, compare_unpaired, record_comparisons

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dataset.json").write_text(json.dumps({
        "dataset": "embedded (procedural, UCF50 layout)" if embedded else "UCF50", "embedded": embedded,
        "num_clips": 640, "num_classes": 8 if embedded else 4, "num_frames": 20, "image_size": 64}))
    acc = {"lrcn": 0.9875, "convlstm": 0.9375, "cnn": 0.75, "rnn": 0.775, "hybrid": 0.8}
    pd.DataFrame([{"model": m, "protocol": p, "loss": 0.1 + 0.01 * i, "accuracy": acc[m] - 0.05 * (p != "group"),
                   "ms_per_step": 100.0 + 50 * i} for i, m in enumerate(("lrcn", "convlstm"))
                  for p in ("group", "random_clip")]).to_csv(folder / "paper001.csv", index=False)
    pd.DataFrame([{"model": m, "set": s, "loss": 0.5, "accuracy": acc[m], "mse": 0.03, "mae": 0.07,
                   "auc": 0.98} for m in ("cnn", "rnn", "hybrid") for s in ("training", "validation")]
                 ).to_csv(folder / "paper000.csv", index=False)
    pd.DataFrame([{"model": "lrcn", "num_classes": 4, "params": 73060},
                  {"model": "convlstm", "num_classes": 4, "params": 44524}]
                 ).to_csv(folder / "parameters.csv", index=False)
    y = np.zeros(160, int)
    wrong = {m: np.r_[np.ones(round((1 - a) * 160)), np.zeros(160 - round((1 - a) * 160))] for m, a in acc.items()}
    rows = [compare_unpaired(round(0.9375 * 160), 160, round(0.9875 * 160), 160, notebook="09_leak",
                             a="lrcn (random_clip)", b="lrcn (group)", shared_clips=37),
            compare(y, wrong["lrcn"], np.ones(160), notebook="09_leak", a="lrcn (group)", b="memoriser (group)")]
    record_comparisons(folder / "comparisons.csv", rows)
    record_comparisons(folder / "comparisons.csv", [compare(y, wrong["lrcn"], wrong["convlstm"], notebook="02_convlstm",
                                                            a="lrcn (group)", b="convlstm (group)")])
    record_comparisons(folder / "comparisons.csv", [compare(y, wrong["hybrid"], wrong[m], notebook="03_cnn_rnn_hybrid",
                                                            a="hybrid", b=m) for m in ("cnn", "rnn")])
    pd.DataFrame([{"claim": "SGD is the best optimizer for the hybrid: SGD - best other", "ours": 0.019,
                   "paper": float("nan"), "difference": float("nan"), "test": "McNemar exact p = 0.581, Holm 1.000",
                   "verdict": "a tie (no clear difference)"},
                  {"claim": "alpha = 0.7 is the best weight: alpha 0.7 - best other", "ours": 0.0,
                   "paper": float("nan"), "difference": float("nan"), "test": "McNemar exact p = 1.000, Holm 1.000",
                   "verdict": "yes"},
                  {"claim": "the RNN on raw pixels learns nothing (Table III): accuracy - chance",
                   "ours": 0.012, "paper": -0.05, "difference": 0.062,
                   "test": "0.125 vs Wilson [0.093, 0.190]", "verdict": "at chance"}]
                 ).to_csv(folder / "paper000_claims.csv", index=False)
    pd.DataFrame([{"model": m, "protocol": p, "seed": s, "accuracy": acc[m] - 0.01 * k - 0.03 * (p != "group"),
                   "loss": 0.2 + 0.01 * k, "seconds": 60.0, "settings": "abc"}
                  for m, p in (("lrcn", "group"), ("lrcn", "random_clip"), ("convlstm", "group"), ("cnn", "group"))
                  for k, s in enumerate(range(27, 32))]).to_csv(folder / "seeds.csv", index=False)
    (folder / "make_run.json").write_text(json.dumps({"make_run_s": 3787,
                                                      "notebooks_s": {"01_lrcn": 531, "02_convlstm": 1866}}))
    (folder / "environment.json").write_text(json.dumps({"cpu_model": "Toy CPU", "isa_family": "avx2", "cpu_count": 2,
                                                         "packages": {"tensorflow": "2.21.0"}}))
    pd.DataFrame({"alpha": [0.0, 0.3, 0.7]}).to_csv(folder / "paper000_alpha.csv", index=False)
    pd.DataFrame({"optimizer": ["SGD", "Adam"]}).to_csv(folder / "paper000_optimizers.csv", index=False)
    return folder


def test_reproduction_report_verdicts_come_from_results(tmp_path):
    import re

    from scripts.readme import section_report

    text = section_report(toy_results(tmp_path / "a"))
    lines = {line.split(" | ")[0].lstrip("| "): line for line in text.splitlines() if line.startswith("| ")}
    # on the embedded data an absolute number of paper 001 cannot be tested; the parameter count can
    assert "not testable here (needs UCF50" in lines["LRCN test accuracy (clip split, the paper's protocol)"]
    assert "| 73,060 | 73,060 | exact | reproduced |" in lines["LRCN parameters with 4 classes"]
    assert "reproduced (on this dataset)" in lines["the LRCN is more accurate than the ConvLSTM (LRCN - ConvLSTM, "
                                                   "held-out groups)"]
    assert "Welch" in lines["the LRCN is more accurate than the ConvLSTM (LRCN - ConvLSTM, held-out groups)"]
    assert "McNemar" in lines["the hybrid beats the rnn (hybrid - rnn)"]  # no hybrid seeds: the single-seed row
    # a model `make seeds` does not retrain is not "not measured yet" once seeds.csv exists
    assert "one seed (not in `results/seeds.csv`)" in lines["ConvLSTM test accuracy (clip split, the paper's protocol)"]
    assert "not reproduced (a tie" in lines["SGD is the best optimizer for the hybrid"]
    assert "Toy CPU (avx2)" in text and "01_lrcn 531 s" in text and "alpha 0, 0.3, 0.7" in text
    # every number of our side comes from results/: from an empty folder the report's `ours` and `seed spread`
    # cells hold no number at all, and its `paper` cells only the papers' (helpers/papers.py)
    from helpers.papers import PAPER000_TABLES, PAPER001

    empty = section_report(tmp_path / "empty")
    assert "one seed (`make seeds`: not measured yet)" in empty
    rows = [line.split(" | ") for line in empty.splitlines()
            if line.startswith("| ") and "---" not in line and not line.startswith("| claim")]
    ours = [cell for row in rows if len(row) == 5 for cell in row[2:4]]
    assert ours and not any(re.search(r"\d", cell) for cell in ours)
    paper_values = {v for m in PAPER001.values() for v in m.values()} | {
        v for t in PAPER000_TABLES.values() for s in t.values() for v in s.values()}
    for row in (r for r in rows if len(r) == 5 and r[1]):
        value = float(row[1].replace(",", "").rstrip("x"))
        derived = [abs(value - v) < 5e-5 for v in paper_values] + [
            abs(value - (a - b)) < 5e-5 or abs(value - round(a / b, 1)) < 5e-5
            for a in paper_values for b in paper_values if b]
        assert any(derived), row
    # on UCF50 with the paper's 4 classes the accuracy claim gets a verdict
    ucf = section_report(toy_results(tmp_path / "c", embedded=False))
    line = next(x for x in ucf.splitlines() if x.startswith("| LRCN test accuracy"))
    assert "not testable" not in line and ("| reproduced |" in line or "| not reproduced |" in line)


def _cpu_rows(moved: dict[str, set[str]], *, cpu_ms: dict[str, float], failed: dict[str, set[str]] | None = None):
    """``cpu_dependence.csv`` rows: per setting the components it moves (and fails), every model's CPU ms/step."""
    settings = {"default": ("", "default"), "default_rerun": ("", "default"),
                "isa_avx2": ("ONEDNN_MAX_CPU_ISA=AVX2", "default"),
                "threads_8": ("TF_NUM_INTRAOP_THREADS=8", "default"),
                "onednn_off": ("TF_ENABLE_ONEDNN_OPTS=0", "default"),
                "onednn_off_avx2": ("TF_ENABLE_ONEDNN_OPTS=0 ONEDNN_MAX_CPU_ISA=AVX2", "onednn_off")}
    models = ("lrcn", "convlstm", "cnn", "rnn", "hybrid", "c3d", "two_stream")
    rows = []
    for setting, (env, reference) in settings.items():
        for component in ("Conv2D 3->16 (LRCN)", "MaxPooling2D 4x4", *models):
            error = next((f"{s}: InvalidArgumentError: no grouped gradient" for s in (setting, reference)
                          if component in (failed or {}).get(s, ())), "")
            still = component in moved.get(setting, ()) or bool(error)
            rows.append({"component": component, "kind": "model" if component in models else "layer",
                         "setting": setting, "env": env, "reference": reference, "identical": not still,
                         "max_abs_diff": float("nan") if error else 3e-6 if still else 0.0, "differs": "",
                         "step_ms": 1.0, "step_cpu_ms": cpu_ms.get(setting, 10.0) if component in models else None,
                         "onednn_isa": "" if "OPTS=0" in env else "Intel AVX2" if "AVX2" in env else "Intel AMX",
                         "threads": None if "OPTS=0" in env else 2, "error": error})
    return rows


def test_cpu_dependence_section_checks_the_emulation_against_the_amd_run_and_computes_the_choice(tmp_path):
    from scripts.readme import CROSS_CPU_MOVED, section_cpu_dependence

    assert "Not produced yet" in section_cpu_dependence(tmp_path)
    # capping at AVX2 moves every model (the LRCN too): not the AMD pattern; oneDNN off still moves under the cap
    everything = {"Conv2D 3->16 (LRCN)", "lrcn", "convlstm", "cnn", "rnn", "hybrid", "c3d", "two_stream"}
    readme, results = toy_readme(tmp_path, {"cpu_dependence": "stale body"}, {"cpu_dependence.csv": _cpu_rows(
        {"isa_avx2": everything, "threads_8": {"c3d"}, "onednn_off": everything, "onednn_off_avx2": {"rnn"}},
        cpu_ms={"default": 10.0, "default_rerun": 11.0, "isa_avx2": 15.0, "onednn_off": 20.0},
        failed={"onednn_off": {"convlstm"}})})
    assert update_readme(readme, results) == ["cpu_dependence"]
    text = readme.read_text()
    assert "stale body" not in text and "gave bit-identical numbers in every row" in text
    assert "| Conv2D 3->16 (LRCN) | layer | = | 3e-06 | = | 3e-06 | = |" in text
    assert "| convlstm | model | = | 3e-06 | = | failed | failed |" in text
    assert "Bit-identical under every setting: MaxPooling2D 4x4." in text
    assert "no emulation here reproduces that pattern" in text
    assert "`onednn_off` (`TF_ENABLE_ONEDNN_OPTS=0`) costs 2.00x (median over models; 2.00-2.00x)" in text
    assert "still moves the rnn, and the convlstm cannot train under it (failing layers: none; onednn_off: Inv" in text
    assert "No setting measured here keeps every model identical" in text and "at 1.50x (median" in text
    assert "differ by 1.10x" in text  # the control's noise floor, computed
    # an emulation that moves exactly the models the AMD run moved, and a cheap setting stable under its cap
    (results / "cpu_dependence.csv").write_text(pd.DataFrame(_cpu_rows(
        {"isa_avx2": {"Conv2D 3->16 (LRCN)", *CROSS_CPU_MOVED}, "onednn_off": everything},
        cpu_ms={"default": 10.0, "onednn_off": 10.5})).to_csv(index=False))
    text = section_cpu_dependence(results)
    assert "`isa_avx2` reproduces that pattern" in text
    assert ("`onednn_off` keeps every model identical across the emulated CPUs: at that cost, the project "
            "recommends") in text


def test_the_default_results_are_where_the_notebooks_write_them(tmp_path, monkeypatch):
    """HAR_HOME moves the notebooks' results/ (helpers.config.project_root): `make readme` reads them there."""
    import scripts.readme as readme_module

    seen = {}
    monkeypatch.setattr(readme_module, "update_readme",
                        lambda readme, results_dir, sections: seen.setdefault("results", results_dir) and [])
    monkeypatch.setenv("HAR_HOME", str(tmp_path / "home"))
    assert readme_module.main([str(tmp_path / "README.md")]) == 0
    assert seen["results"] == (tmp_path / "home" / "results").resolve()
