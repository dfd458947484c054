"""helpers.results: tables that several notebooks fill (paper001.csv: 01 the LRCN rows, 02 the ConvLSTM rows)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers.experiment import PAPER001_COLUMNS
from helpers.results import record_protocol_runs, upsert_rows


def _rows(model: str, protocols: list[str], accuracy: float) -> pd.DataFrame:
    return pd.DataFrame([{"model": model, "protocol": p, "loss": 1.0 - accuracy, "accuracy": accuracy,
                          "ms_per_step": 10.0} for p in protocols])


def test_upsert_rows_replaces_rows_with_the_same_key_and_keeps_the_others(tmp_path):
    path = tmp_path / "paper001.csv"
    table = upsert_rows(path, _rows("toy", ["random_clip", "group"], 0.5), key=["model", "protocol"],
                        columns=PAPER001_COLUMNS)
    assert list(table.columns) == list(PAPER001_COLUMNS) and len(table) == 2
    again = upsert_rows(path, _rows("toy", ["group"], 0.75).assign(extra=1), key=["model", "protocol"],
                        columns=PAPER001_COLUMNS)
    again = upsert_rows(path, _rows("other", ["group"], 0.25), key=["model", "protocol"], columns=PAPER001_COLUMNS)
    keys = list(zip(again.model, again.protocol, strict=True))
    assert keys == [("other", "group"), ("toy", "group"), ("toy", "random_clip")]  # sorted by key
    on_disk = pd.read_csv(path)
    assert list(on_disk.columns) == list(PAPER001_COLUMNS) and len(on_disk) == 3
    assert on_disk.set_index(["model", "protocol"]).loc[("toy", "group"), "accuracy"] == 0.75
    assert (tmp_path / "paper001.md").exists()


def test_upsert_rows_reads_and_writes_through_update_table(tmp_path, monkeypatch):
    """One read-modify-write (update_table) under every results table; upsert_rows is a policy over it."""
    from helpers import results

    calls, real = [], results.update_table
    monkeypatch.setattr(results, "update_table", lambda path, update, **kw: calls.append(path) or
                        real(path, update, **kw))
    path = tmp_path / "t.csv"
    upsert_rows(path, _rows("toy", ["group"], 0.5), key=["model", "protocol"], columns=PAPER001_COLUMNS)
    table = upsert_rows(path, _rows("toy", ["group"], 0.75), key=["model", "protocol"], columns=PAPER001_COLUMNS)
    assert calls == [path, path] and table.accuracy.tolist() == [0.75]


def test_record_protocol_runs_fills_paper001_and_trained_models_for_two_notebooks(tmp_path):
    budget = {"protocol": "group", "test_size": 0.25, "val_size": 0.2, "seed": 27, "epochs": 2, "patience": 15,
              "batch_size": 4, "epochs_run": 2, "train_s": 1.5}
    for model, notebook, accuracy in (("lrcn", "01_lrcn", 0.5), ("convlstm", "02_convlstm", 0.75)):
        evaluations = {"group": {"loss": 1 - accuracy, "accuracy": accuracy, "ms_per_step": 10.0},
                       "random_clip": {"loss": 0.1, "accuracy": 0.9, "ms_per_step": 11.0}}
        table = record_protocol_runs(tmp_path, model_name=model, notebook=notebook, evaluations=evaluations,
                                     columns=PAPER001_COLUMNS, budget=budget)
    assert list(table.columns) == list(PAPER001_COLUMNS)
    assert list(zip(table.model, table.protocol, strict=True)) == [
        ("convlstm", "group"), ("convlstm", "random_clip"), ("lrcn", "group"), ("lrcn", "random_clip")]
    assert table.set_index(["model", "protocol"]).loc[("lrcn", "group"), "accuracy"] == 0.5
    trained = pd.read_csv(tmp_path / "trained_models.csv")
    assert list(trained.columns) == ["model", "notebook", *budget]
    assert dict(zip(trained.model, trained.notebook, strict=True)) == {"convlstm": "02_convlstm", "lrcn": "01_lrcn"}


def test_a_written_table_records_the_machine_beside_it(tmp_path):
    """environment.json: the CPU model, its instruction-set family and the library versions a number depends on."""
    import json
    from importlib import metadata

    from helpers.results import ISA_FAMILIES, write_table

    write_table(pd.DataFrame({"model": ["lrcn"], "accuracy": [0.9]}), tmp_path / "paper001.csv")
    env = json.loads((tmp_path / "environment.json").read_text())
    assert env["cpu_model"] and env["isa_family"] in {family for _, family in ISA_FAMILIES} | {"unknown"}
    assert env["packages"]["tensorflow"] == metadata.version("tensorflow")
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists() and " avx2" in cpuinfo.read_text():
        assert env["isa_family"] in {"avx2", "avx512", "amx"} and "avx2" in env["isa_flags"]
    before = (tmp_path / "environment.json").stat().st_mtime_ns
    write_table(pd.DataFrame({"x": [1]}), tmp_path / "other.csv")  # the same machine: the file is left alone
    assert (tmp_path / "environment.json").stat().st_mtime_ns == before


def test_update_table_reads_applies_and_writes(tmp_path):
    """The file side of a computed table: an empty frame with the columns when there is no file, then the file."""
    from helpers.results import update_table

    path = tmp_path / "t.csv"
    seen = []

    def add(old: pd.DataFrame) -> pd.DataFrame:
        seen.append(list(old.columns))
        return pd.concat([old, pd.DataFrame({"a": ["x"], "b": [len(old)]})], ignore_index=True)

    assert update_table(path, add, columns=["a", "b"], dtype={"a": str})["b"].tolist() == [0]
    table = update_table(path, add, columns=["a", "b"], dtype={"a": str})
    assert seen == [["a", "b"], ["a", "b"]] and table["b"].tolist() == [0, 1]
    assert pd.read_csv(path)["b"].tolist() == [0, 1] and path.with_suffix(".md").exists()


def test_notebooks_run_side_by_side_lose_no_rows_of_a_shared_table(tmp_path):
    """`make run JOBS=2` runs notebooks side by side that fill one table (trained_models.csv, comparisons.csv):
    four processes each upserting their own rows 15 times keep every row (update_table holds the folder's lock
    around read, update and write; without it a writer replaced the table another had just extended)."""
    import subprocess
    import sys

    path = tmp_path / "trained_models.csv"
    script = ("import sys, pandas as pd\n"
              "from helpers.results import upsert_rows\n"
              "me = sys.argv[1]\n"
              "for i in range(15):\n"
              "    upsert_rows(sys.argv[2], pd.DataFrame([{'model': f'{me}-{i}', 'seconds': i}]), key=['model'],\n"
              "                columns=['model', 'seconds'])\n")
    root = Path(__file__).resolve().parent.parent
    procs = [subprocess.Popen([sys.executable, "-c", script, f"p{k}", str(path)], cwd=root,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for k in range(4)]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()[-2000:]
    table = pd.read_csv(path)
    assert sorted(table.model) == sorted(f"p{k}-{i}" for k in range(4) for i in range(15))
