"""`make run`'s incremental rule: which notebooks it selects (never how long they take).

The repo's Makefile runs on a fake tree (empty notebooks, a helpers package whose config is the real one, a
rendered-data marker) with the executing command replaced (NBEXEC=echo EXEC: a notebook "runs" when its line is
printed) and the interpreter replaced by `true`, so nothing is installed or executed; only the results folder is
asked of this Python (PATHS_PY), as `make run` asks the venv's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.config import dataset_key

ROOT = Path(__file__).resolve().parent.parent
#: The notebooks of the fake tree in the order `make run` executes them: numbered order, except that 10 (whose
#: model 05 loads) runs before 05. The Makefile's NB_READS_* edges name them all (a missing one is an error).
NAMES = ["00_data", "01_lrcn", "02_convlstm", "03_cnn_rnn_hybrid", "04_predict", "10_transfer",
         "05_model_comparison", "06_deployment"]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    for folder in ("notebooks", "helpers", "data/embedded", "data/embedded_quick", ".venv"):
        (tmp_path / folder).mkdir(parents=True)
    for name in NAMES:
        (tmp_path / "notebooks" / f"{name}.ipynb").write_text("{}")
    for path in ("helpers/__init__.py", "helpers/layers.py", "pyproject.toml", "requirements.txt",
                 "data/embedded/.complete", "data/embedded_quick/.complete"):
        (tmp_path / path).write_text("x = 1\n")
    shutil.copy(ROOT / "helpers" / "config.py", tmp_path / "helpers" / "config.py")  # where the results go
    _age(tmp_path, seconds=100)
    (tmp_path / ".venv" / ".installed").write_text("")  # the venv is newer than the requirements: no setup
    return tmp_path


def _age(root: Path, *, seconds: float) -> None:
    """Move every file's time ``seconds`` into the past, so a later touch is unambiguously newer."""
    for path in root.rglob("*"):
        if path.is_file():
            stat = path.stat()
            os.utime(path, (stat.st_atime - seconds, stat.st_mtime - seconds))


def _touch(path: Path) -> None:
    path.write_text(path.read_text() + " ")


def _make(root: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
    """``make run ARGS`` there, with none of the caller's settings (a parent make's MAKEFLAGS carries its
    command-line variables; HAR_QUICK / HAR_DATASET_DIR would pick other stamps)."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "HAR_DATASET_DIR", "HAR_HOME", "HAR_CWD", "PYTHONPATH"}}
    # one notebook at a time unless a test names JOBS (the order is tested); JOBS=default: the Makefile's default
    jobs = [] if any(arg.startswith("JOBS=") for arg in args) else ["JOBS=1"]
    args = tuple(arg for arg in args if arg != "JOBS=default")
    return subprocess.run(["make", "--no-print-directory", "run", "PY=true", "PYTHON=true",
                           f"PATHS_PY={sys.executable}", *jobs, *args], cwd=root, capture_output=True, text=True,
                          env={**env, "HAR_QUICK": "0", **extra_env})


def _run(root: Path, *args: str, **extra_env: str) -> tuple[list[str], str]:
    """``make run`` there; the notebooks it executed, in order, and its output."""
    out = _make(root, "NBEXEC=echo EXEC", *args, **extra_env)
    assert out.returncode == 0, out.stdout + out.stderr
    ran = [line.split()[1].removeprefix("notebooks/").removesuffix(".ipynb") for line in out.stdout.splitlines()
           if line.startswith("EXEC ")]
    return ran, out.stdout


def test_a_fresh_tree_runs_every_notebook_in_order_then_none(tree):
    ran, _ = _run(tree)
    assert ran == NAMES
    ran, out = _run(tree)
    assert ran == []
    assert "skip 03_cnn_rnn_hybrid: up to date (last run " in out
    record = json.loads((tree / "results" / "make_run.json").read_text())
    assert record["ran"] == [] and record["skipped"] == sorted(NAMES)  # listed in numbered order
    assert set(record["notebooks_s"]) == set(NAMES) and record["make_run_s"] >= 0
    assert record["jobs"] == 1
    if Path("/proc/stat").is_file():  # how busy the machine was over the run, and the CPU steal (Linux)
        assert 0 <= record["cpu_busy_pct"] <= 100 and 0 <= record["cpu_steal_pct"] <= 100


def test_a_changed_notebook_reruns_it_and_the_notebooks_reading_its_outputs(tree):
    _run(tree)
    _touch(tree / "notebooks" / "06_deployment.ipynb")
    ran, out = _run(tree)
    assert ran == ["06_deployment"]
    assert "run 06_deployment: changed: notebooks/06_deployment.ipynb" in out
    assert json.loads((tree / "results" / "make_run.json").read_text())["ran"] == ["06_deployment"]
    _touch(tree / "notebooks" / "01_lrcn.ipynb")  # 02, 04, 05 and 06 load its model
    ran, _ = _run(tree)
    assert ran == ["01_lrcn", "02_convlstm", "04_predict", "05_model_comparison", "06_deployment"]
    _touch(tree / "notebooks" / "03_cnn_rnn_hybrid.ipynb")  # 05 reads its models and table, 06 reads 05's
    assert _run(tree)[0] == ["03_cnn_rnn_hybrid", "05_model_comparison", "06_deployment"]


def test_the_transfer_notebook_runs_before_the_table_that_loads_its_model(tree):
    ran = _run(tree)[0]
    assert ran.index("10_transfer") < ran.index("05_model_comparison")
    _touch(tree / "notebooks" / "10_transfer.ipynb")  # 05 loads its model, 06 reads 05's
    assert _run(tree)[0] == ["10_transfer", "05_model_comparison", "06_deployment"]


@pytest.mark.parametrize("changed", ["helpers/layers.py", "requirements.txt", "data/embedded/.complete"])
def test_the_package_or_the_data_changed_reruns_all(tree, changed):
    _run(tree)
    _touch(tree / changed)
    assert _run(tree)[0] == NAMES


def test_force_reruns_all(tree):
    _run(tree)
    ran, out = _run(tree, "FORCE=1")
    assert ran == NAMES and "run 00_data: FORCE=1" in out
    assert _run(tree, "FORCE=0")[0] == []


def test_the_quick_profile_has_its_own_stamps(tree):
    _run(tree, "QUICK=1")
    assert (tree / "results" / "quick" / "make_run.json").exists()
    assert not (tree / "results" / "make_run.json").exists()
    assert _run(tree)[0] == NAMES  # the quick run never marks the full one up to date
    assert _run(tree, "QUICK=1")[0] == []
    _touch(tree / "data" / "embedded_quick" / ".complete")
    assert _run(tree)[0] == [] and _run(tree, "QUICK=1")[0] == NAMES


def test_a_failed_notebook_is_not_marked_and_runs_again(tree):
    assert _make(tree, "NBEXEC=false").returncode != 0
    assert not list((tree / "results" / ".stamps").glob("*.done"))
    assert _run(tree)[0] == NAMES


def test_another_dataset_has_its_own_stamps_and_reruns_when_its_folders_change(tree):
    dataset = tree / "videos"
    (dataset / "Walking").mkdir(parents=True)
    _age(dataset, seconds=100)
    os.utime(dataset / "Walking", (0, 1_000_000))
    os.utime(dataset, (0, 1_000_000))
    ran, _ = _run(tree, f"HAR_DATASET_DIR={dataset}")
    assert ran == NAMES
    # its stamps and executed copies sit in the results folder the notebooks use for that dataset
    assert len(list((tree / "results" / dataset_key(dataset) / ".stamps").glob("*.done"))) == len(NAMES)
    assert _run(tree, f"HAR_DATASET_DIR={dataset}")[0] == []
    assert _run(tree)[0] == NAMES  # the embedded run is not up to date because another dataset's is
    (dataset / "Walking" / "v_Walking_g01_c01.avi").write_text("")  # a new clip: the class folder changed
    assert _run(tree, f"HAR_DATASET_DIR={dataset}")[0] == NAMES


def test_the_stamps_go_where_the_notebooks_write_whatever_names_the_folder(tree, tmp_path):
    """The run folder is helpers.config.project_paths' own answer: under HAR_HOME when it is set (the Makefile's
    own sha256 of the path put it under the checkout's results/), for a dataset given as a relative path the
    dataset_key of the folder it names; `make help` needs no interpreter."""
    from helpers.config import project_paths

    (tree / "videos" / "Walking").mkdir(parents=True)
    home = tmp_path / "elsewhere"
    env = {"HAR_HOME": str(home), "HAR_DATASET_DIR": "videos"}
    ran, out = _run(tree, **env)
    assert ran == NAMES
    old = {k: os.environ.get(k) for k in (*env, "HAR_CWD")}
    try:
        os.environ.update(env, HAR_CWD=str(tree))
        expected = project_paths(quick=False).results_dir
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    assert expected.parent == home / "results" and expected.name.startswith("videos-")
    assert len(list((expected / ".stamps").glob("*.done"))) == len(NAMES), out
    assert (expected / "make_run.json").is_file() and not (tree / "results").exists()
    assert _run(tree, **env)[0] == []
    help_ = subprocess.run(["make", "-s", "help", "PY=/no/venv/python", "HAR_DATASET_DIR=videos"], cwd=tree,
                           capture_output=True, text=True)
    assert help_.returncode == 0 and help_.stderr == "" and "make run" in help_.stdout


def test_a_dataset_named_with_a_tilde_is_found(tree, tmp_path):
    """HAR_DATASET_DIR='~/videos' (quoted: the shell left the ~) means the home folder's videos, as
    helpers.config.user_path reads it; a folder that is not there is refused in one line."""
    (tree / "videos" / "Walking").mkdir(parents=True)
    ran, _ = _run(tree, "HAR_DATASET_DIR=~/videos", HOME=str(tree))
    assert ran == NAMES
    missing = _make(tree, "NBEXEC=echo EXEC", "HAR_DATASET_DIR=~/nowhere", HOME=str(tree))
    assert missing.returncode == 2 and "HAR_DATASET_DIR=~/nowhere is not a folder" in missing.stderr


def test_nbtest_runs_each_notebook_after_those_it_reads(tree):
    """`make test`'s nbmake pass (one kernel per notebook, in the order given) runs them as `make run` does: 10's
    model before 05 loads it. Read from the recipe `make -n` prints."""
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}
    out = subprocess.run(["make", "-n", "--no-print-directory", "nbtest", "PY=true", "PYTHON=true"], cwd=tree,
                         capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    given = [word.removeprefix("notebooks/").removesuffix(".ipynb") for word in out.stdout.split()
             if word.endswith(".ipynb")]
    assert given == NAMES


def test_jobs_2_runs_every_notebook_after_those_it_reads(tree):
    """JOBS=2 (two notebooks side by side): every notebook still runs once, each after the notebooks it reads."""
    ran, _ = _run(tree, "JOBS=2")
    assert sorted(ran) == sorted(NAMES)
    for reader, read in [("02_convlstm", "01_lrcn"), ("04_predict", "01_lrcn"), ("05_model_comparison", "10_transfer"),
                         ("05_model_comparison", "03_cnn_rnn_hybrid"), ("06_deployment", "05_model_comparison")]:
        assert ran.index(read) < ran.index(reader), (read, reader, ran)
    assert json.loads((tree / "results" / "make_run.json").read_text())["jobs"] == 2
    assert _run(tree, "JOBS=2")[0] == []


def test_jobs_defaults_to_2_with_two_or_more_cpus(tree):
    """Side by side is the default where there is a second core to fill; one CPU runs one notebook at a time."""
    cpus = int(subprocess.run(["getconf", "_NPROCESSORS_ONLN"], capture_output=True, text=True).stdout or 1)
    ran, _ = _run(tree, "JOBS=default")  # no JOBS= on the command line
    assert sorted(ran) == sorted(NAMES)
    assert json.loads((tree / "results" / "make_run.json").read_text())["jobs"] == (2 if cpus >= 2 else 1)
