"""Each notebook's `parameters` cell: what papermill (or nbclient with its convention) may override."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook

from helpers.config import QUICK_ENV, project_paths

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
TRAINING = {"01_lrcn", "02_convlstm", "03_cnn_rnn_hybrid", "05_model_comparison", "06_deployment", "10_transfer"}


def _tagged(nb: nbformat.NotebookNode, tag: str) -> list[int]:
    return [i for i, cell in enumerate(nb.cells) if tag in cell.get("metadata", {}).get("tags", [])]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_has_one_parameters_cell_before_its_config(path):
    nb = nbformat.read(path, as_version=4)
    (index,) = _tagged(nb, "parameters")
    config = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.startswith("# DATA"))
    assert index < config, "the config cell must read the parameters, so it comes after them"
    names = {line.split("=")[0].strip() for line in nb.cells[index].source.splitlines()
             if "=" in line and not line.startswith("#")}
    assert {"QUICK", "SEED", "DATASET_DIR"} <= names
    assert ("EPOCHS" in names) == (path.stem in TRAINING)
    # the parameters are the only place they are set: the config cell derives from them
    assert not any(line.startswith(("QUICK =", "SEED =")) for line in nb.cells[config].source.splitlines())


def test_an_injected_quick_reaches_the_kernel_and_the_budget(monkeypatch):
    """papermill's own injection (a cell tagged `injected-parameters` below `parameters`), run by nbclient:
    QUICK=True overrides HAR_QUICK=0 and the config cell derives the quick budget from it."""
    monkeypatch.setenv(QUICK_ENV, "0")
    nb = load_notebook_node(str(ROOT / "notebooks" / "01_lrcn.ipynb"))  # as papermill reads it
    config = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.startswith("# DATA"))
    imports = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    # the import, parameters and config cells, then a probe (the setup cell would load data)
    nb.cells = [nb.cells[imports], *nb.cells[imports + 1: config + 1],
                nbformat.v4.new_code_cell("print('PROBE', QUICK, EPOCHS, SEED)", metadata={"tags": []})]
    nb = parameterize_notebook(nb, {"QUICK": True, "SEED": 5})
    assert _tagged(nb, "injected-parameters") == [_tagged(nb, "parameters")[0] + 1]
    NotebookClient(nb, timeout=300, kernel_name="python3").execute()
    assert "PROBE True 2 5" in nb.cells[-1].outputs[0]["text"]


def test_the_dataset_parameter_drives_the_folders(monkeypatch, tmp_path):
    monkeypatch.delenv("HAR_DATASET_DIR", raising=False)
    paths = project_paths(root=tmp_path, quick=False, dataset_dir=tmp_path / "mine")
    assert paths.dataset_dir == tmp_path / "mine" and not paths.embedded
    assert paths.results_dir.parent == tmp_path / "results" and paths.results_dir.name.startswith("mine-")
