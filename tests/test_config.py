"""Seeds, folders, and the quick profile reaching a notebook kernel."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from helpers.config import QUICK_ENV, dataset_key, is_quick, project_paths, setup

ROOT = Path(__file__).resolve().parent.parent


def test_is_quick_reads_the_environment(monkeypatch):
    monkeypatch.setenv(QUICK_ENV, "1")
    assert is_quick()
    monkeypatch.setenv(QUICK_ENV, "0")
    assert not is_quick()
    monkeypatch.delenv(QUICK_ENV)
    assert not is_quick()


def test_quick_profile_writes_elsewhere(monkeypatch, tmp_path):
    monkeypatch.delenv("HAR_DATASET_DIR", raising=False)
    full = project_paths(root=tmp_path, quick=False)
    quick = project_paths(root=tmp_path, quick=True)
    assert full.results_dir != quick.results_dir and full.dataset_dir != quick.dataset_dir
    assert full.embedded and quick.embedded
    monkeypatch.setenv("HAR_DATASET_DIR", str(tmp_path / "UCF50"))
    custom = project_paths(root=tmp_path, quick=False)
    assert custom.dataset_dir == tmp_path / "UCF50" and not custom.embedded


def test_two_datasets_never_share_a_results_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("HAR_DATASET_DIR", raising=False)
    embedded = project_paths(root=tmp_path, quick=False)
    folders = {embedded.results_dir}
    for other in (tmp_path / "a" / "videos", tmp_path / "b" / "videos", tmp_path / "UCF50"):
        monkeypatch.setenv("HAR_DATASET_DIR", str(other))
        for quick in (False, True):
            paths = project_paths(root=tmp_path, quick=quick)
            assert paths.results_dir.name.startswith(other.name + "-")
            assert paths.models_dir.parent == paths.results_dir and paths.figures_dir.parent == paths.results_dir
            folders.add(paths.results_dir)
    assert embedded.results_dir == tmp_path / "results"  # the embedded run keeps results/ (README, make readme)
    assert len(folders) == 1 + 3 * 2


def test_quick_switch_reaches_the_kernel(monkeypatch):
    """Canary: the variable make test sets must be visible to code running in a notebook kernel."""
    monkeypatch.setenv(QUICK_ENV, "1")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from helpers.config import is_quick\nprint('QUICK', is_quick())")])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()  # the kernel inherits os.environ
    assert "QUICK True" in nb.cells[0].outputs[0]["text"]


def _where(site: Path, cwd: Path, **env: str) -> dict:
    """project_paths() as a fresh interpreter sees it, importing helpers from ``site`` with ``cwd``."""
    script = ("import json; from helpers.config import project_paths; p = project_paths(quick=False); print(json.dumps("
              "{'data': str(p.data_dir), 'results': str(p.results_dir), 'models': str(p.models_dir)}))")
    clean = {k: v for k, v in os.environ.items() if k not in {"HAR_HOME", "HAR_DATASET_DIR", "PYTHONPATH"}}
    done = subprocess.run([sys.executable, "-c", script], cwd=cwd, env={**clean, "PYTHONPATH": str(site), **env},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return {key: Path(value) for key, value in json.loads(done.stdout).items()}


def test_installed_package_writes_under_the_working_directory(tmp_path):
    """A non-editable install (helpers/ copied into a site folder) never resolves folders inside site-packages:
    the working directory, or HAR_HOME when set."""
    site = tmp_path / "site-packages"
    shutil.copytree(ROOT / "helpers", site / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    work = tmp_path / "work"
    work.mkdir()
    paths = _where(site, work)
    assert paths["data"] == work.resolve() / "data" and paths["results"] == work.resolve() / "results"
    assert not any(path.is_relative_to(site) for path in paths.values())
    home = tmp_path / "home"
    assert _where(site, work, HAR_HOME=str(home))["models"] == home.resolve() / "results" / "models"


def test_source_checkout_writes_into_the_checkout(tmp_path):
    """Imported from the checkout (pyproject.toml and notebooks/ next to helpers/), any working directory."""
    assert _where(ROOT, tmp_path)["results"] == ROOT / "results"
    assert _where(ROOT, tmp_path, HAR_HOME=str(tmp_path))["results"] == tmp_path.resolve() / "results"


def test_setup_quick_drives_the_folders_and_the_variable(monkeypatch, tmp_path):
    """A notebook's QUICK = True (no HAR_QUICK) gives the quick folders, and HAR_QUICK follows it."""
    monkeypatch.delenv(QUICK_ENV, raising=False)
    monkeypatch.delenv("HAR_DATASET_DIR", raising=False)
    paths = setup(seed=0, quick=True, root=tmp_path)
    assert paths.quick and paths.results_dir == tmp_path / "results" / "quick" and is_quick()
    assert paths.dataset_dir == tmp_path / "data" / "embedded_quick"
    assert not (tmp_path / "results" / "models").exists()
    monkeypatch.setenv(QUICK_ENV, "1")
    assert setup(seed=0, root=tmp_path) == paths  # the variable alone: the same folders
    full = setup(seed=0, quick=False, root=tmp_path)
    assert not full.quick and full.results_dir == tmp_path / "results" and not is_quick()


def test_load_clips_refuses_a_profile_that_disagrees_with_the_paths(tmp_path):
    from helpers.experiment import load_clips

    with pytest.raises(ValueError, match="setup\\(quick"):
        load_clips(project_paths(root=tmp_path, quick=False), quick=True)


def _dataset_as_seen(cwd: Path, **env: str) -> dict:
    """project_paths()'s dataset folder and results folder in a fresh interpreter started in ``cwd``."""
    script = ("import json; from helpers.config import project_paths; p = project_paths(quick=False); "
              "print(json.dumps({'dataset': str(p.dataset_dir), 'results': p.results_dir.name}))")
    clean = {k: v for k, v in os.environ.items() if k not in {"HAR_HOME", "HAR_DATASET_DIR", "HAR_CWD", "PYTHONPATH"}}
    done = subprocess.run([sys.executable, "-c", script], cwd=cwd, env={**clean, "PYTHONPATH": str(ROOT), **env},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_relative_and_home_dataset_paths_mean_where_the_command_started(tmp_path):
    """Issue 29: under `make run` the kernel runs in notebooks/, yet HAR_DATASET_DIR=data/UCF50 means the folder
    make was started in (HAR_CWD, exported by the Makefile); `~` is expanded."""
    start, kernel_dir, home = tmp_path / "start", tmp_path / "start" / "notebooks", tmp_path / "home"
    kernel_dir.mkdir(parents=True)
    (start / "data" / "UCF50").mkdir(parents=True)
    (home / "videos").mkdir(parents=True)
    seen = _dataset_as_seen(kernel_dir, HAR_DATASET_DIR="data/UCF50", HAR_CWD=str(start))
    assert Path(seen["dataset"]) == start / "data" / "UCF50"
    assert seen["results"] == dataset_key(start / "data" / "UCF50")
    seen = _dataset_as_seen(start / "data", HAR_DATASET_DIR="UCF50")  # no HAR_CWD: the working directory
    assert Path(seen["dataset"]) == start / "data" / "UCF50"
    seen = _dataset_as_seen(kernel_dir, HAR_DATASET_DIR="~/videos", HOME=str(home), HAR_CWD=str(start))
    assert Path(seen["dataset"]) == home / "videos" and seen["results"] == dataset_key(home / "videos")


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_exports_the_folder_it_was_started_in(tmp_path):
    done = subprocess.run(["make", "-s", "-f", str(ROOT / "Makefile"), "--eval", "where: ; @echo \"$$HAR_CWD\"",
                           "where"], cwd=tmp_path, env={k: v for k, v in os.environ.items() if k != "HAR_CWD"},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == tmp_path
