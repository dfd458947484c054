"""Seeds, folders, and the quick profile reaching a notebook kernel."""

from __future__ import annotations

import nbformat
from nbclient import NotebookClient

from helpers.config import QUICK_ENV, is_quick, project_paths


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


def test_quick_switch_reaches_the_kernel(monkeypatch):
    """Canary: the variable make test sets must be visible to code running in a notebook kernel."""
    monkeypatch.setenv(QUICK_ENV, "1")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from helpers.config import is_quick\nprint('QUICK', is_quick())")])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()  # the kernel inherits os.environ
    assert "QUICK True" in nb.cells[0].outputs[0]["text"]
