"""scripts/seeds.py (`make seeds`): one row per model, protocol and seed in the quick profile, resumable, and
a change of settings replaces the rows the old settings made."""

from __future__ import annotations

import json
import shutil

import pandas as pd

from scripts import seeds
from scripts.readme import section_seeds


def test_settings_come_from_the_notebooks_config_cells(monkeypatch):
    monkeypatch.setenv("HAR_QUICK", "1")
    config = seeds.notebook_config(seeds.PROJECT_ROOT / "notebooks" / "03_cnn_rnn_hybrid.ipynb")
    assert config["QUICK"] is True and config["ALPHA"] == 0.7 and config["OPTIMIZER"] in config["OPTIMIZERS"]
    assert len(config["SETTINGS_HASH"]) == 12
    assert seeds.notebook_config(seeds.PROJECT_ROOT / "notebooks" / "01_lrcn.ipynb")["MODEL_NAME"] == "lrcn"
    assert seeds.notebook_config(seeds.PROJECT_ROOT / "notebooks" / "02_convlstm.ipynb")["MODEL_NAME"] == "convlstm"
    assert seeds.parse_seeds("27, 28") == [27, 28] and seeds.parse_seeds(None) == list(seeds.DEFAULT_SEEDS)
    assert ("lrcn", "random_clip") in seeds.RUNS and ("convlstm", "group") in seeds.RUNS


def edited_notebooks(tmp_path, *, notebook: str, old: str, new: str):
    """A copy of the repository's notebooks with ``old`` replaced by ``new`` in ``notebook``'s config cell."""
    folder = tmp_path / "notebooks"
    shutil.copytree(seeds.PROJECT_ROOT / "notebooks", folder)
    path = folder / f"{notebook}.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if "".join(c["source"]).startswith("# DATA"))
    source = "".join(cell["source"])
    assert old in source
    cell["source"] = source.replace(old, new)
    path.write_text(json.dumps(nb), encoding="utf-8")
    return folder


def test_quick_profile_writes_one_row_per_run_resumes_and_replaces_stale_rows(tmp_path, monkeypatch):
    """The LRCN on both protocols (notebook 01's settings) and the CNN (notebook 03's): five tiny runs, then one."""
    monkeypatch.setenv("HAR_QUICK", "1")
    monkeypatch.delenv("HAR_DATASET_DIR", raising=False)
    out = tmp_path / "results" / "quick" / "seeds.csv"
    trained = seeds.main(["--seeds", "27,28", "--models", "lrcn,cnn", "--protocols", "group"], root=tmp_path)
    trained += seeds.main(["--seeds", "27", "--models", "lrcn", "--protocols", "random_clip"], root=tmp_path)
    table = pd.read_csv(out, dtype={"settings": str})
    expected = sorted([(m, "group", s) for m in ("cnn", "lrcn") for s in (27, 28)] + [("lrcn", "random_clip", 27)])
    assert sorted(zip(table.model, table.protocol, table.seed, strict=True)) == expected
    assert len(trained) == len(expected) and list(table.columns) == seeds.SEEDS_COLUMNS
    assert table.accuracy.between(0, 1).all() and (table.seconds > 0).all() and table.settings.str.len().eq(12).all()
    # a rerun with the same settings finds every row there and trains nothing
    assert seeds.main(["--seeds", "27,28", "--models", "lrcn,cnn", "--protocols", "group"], root=tmp_path) == []
    assert pd.read_csv(out, dtype={"settings": str}).equals(table)
    # notebook 03 with another batch size: its CNN rows are stale; one new run replaces both, the LRCN's stay
    changed = edited_notebooks(tmp_path, notebook="03_cnn_rnn_hybrid", old="BATCH_SIZE = 8", new="BATCH_SIZE = 4")
    again = seeds.main(["--seeds", "27", "--models", "cnn"], root=tmp_path, notebooks=changed)
    assert [(r["model"], r["seed"]) for r in again] == [("cnn", 27)]
    after = pd.read_csv(out, dtype={"settings": str})
    cnn = after[after.model == "cnn"]
    assert list(cnn.seed) == [27] and cnn.settings.iloc[0] != table[table.model == "cnn"].settings.iloc[0]
    lrcn_rows = [t[t.model == "lrcn"].reset_index(drop=True) for t in (after, table)]
    assert lrcn_rows[0].equals(lrcn_rows[1])
    # the README shows mean and std per model and protocol
    text = section_seeds(out.parent)
    assert "| lrcn | group |" in text and "| lrcn | random_clip |" in text and "accuracy std" in text


def test_seed_verdicts_say_not_measured_until_make_seeds_has_run(tmp_path):
    rows = [{"model": "lrcn", "protocol": "group", "seed": s, "accuracy": a, "loss": 0.1, "seconds": 10.0,
             "settings": "abc"} for s, a in zip(range(27, 32), (0.988, 0.956, 0.975, 0.969, 0.975), strict=True)]
    pd.DataFrame(rows).to_csv(tmp_path / "seeds.csv", index=False)
    text = section_seeds(tmp_path)
    assert "not measured yet: run `make seeds`" in text
    rows += [dict(r, model="convlstm", accuracy=a) for r, a in zip(rows, (0.9375, 0.9125, 0.95, 0.925, 0.9375),
                                                                     strict=True)]
    rows += [dict(r, protocol="random_clip", accuracy=a) for r, a in zip(rows[:5], (0.925, 0.95, 0.94, 0.93, 0.96),
                                                                         strict=True)]
    pd.DataFrame(rows).to_csv(tmp_path / "seeds.csv", index=False)
    text = section_seeds(tmp_path)
    assert "not measured yet" not in text and "Welch" in text and "The conclusion rests on the seed rows" in text
    assert "| lrcn (group) | convlstm (group) |" in text


def test_write_row_is_a_policy_over_the_one_read_modify_write(tmp_path, monkeypatch):
    """write_row reads, drops the rows it replaces, appends, sorts and writes through helpers.results.update_table;
    a file from before the protocol column gets it (group)."""
    from helpers import results

    calls = []
    monkeypatch.setattr(seeds, "update_table", lambda path, update, **kw: calls.append(path) or
                        results.update_table(path, update, **kw))
    path = tmp_path / "seeds.csv"
    pd.DataFrame([{"model": "lrcn", "seed": s, "accuracy": 0.5, "loss": 1.0, "seconds": 1.0, "settings": "0a"}
                  for s in (28, 27)]).to_csv(path, index=False)
    row = {"model": "lrcn", "protocol": "group", "seed": 27, "accuracy": 0.9, "loss": 0.1, "seconds": 2.0,
           "settings": "0a"}
    table = seeds.write_row(path, row)
    assert calls == [path] and list(table.columns) == seeds.SEEDS_COLUMNS
    assert list(zip(table.seed, table.accuracy, table.protocol, strict=True)) == [(27, 0.9, "group"),
                                                                                  (28, 0.5, "group")]
    table = seeds.write_row(path, {**row, "seed": 29, "settings": "0b"})  # other settings: the old rows are stale
    assert list(zip(table.seed, table.settings, strict=True)) == [(29, "0b")]
    assert pd.read_csv(path, dtype={"settings": str}).equals(table) and seeds.read_seeds(path).equals(table)
    assert seeds.write_row(tmp_path / "new.csv", row).to_dict("records") == [row]
