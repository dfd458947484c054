"""scripts/export_notebooks.py: the notebooks' #@save cells and helpers/models.py stay one definition."""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import export_notebooks  # noqa: E402


def _notebook(path: Path, sources: list[str]) -> Path:
    cells = [{"cell_type": "code", "source": s, "metadata": {}, "outputs": [], "execution_count": None}
             for s in sources]
    cells.insert(0, {"cell_type": "markdown", "source": "#@save\nnot code", "metadata": {}})
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_models_py_matches_the_notebooks():
    assert export_notebooks.main(["--check"]) == 0, "run `make export`"


def test_export_copies_only_save_cells_in_order_and_replaces_the_old_block(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "helpers").mkdir()
    _notebook(tmp_path / "notebooks" / "01_a.ipynb", ["#@save\ndef a():\n    return 1", "x = a()"])
    _notebook(tmp_path / "notebooks" / "02_b.ipynb", ["print('no')", "#@save\ndef b():\n    return 2\n"])
    module = tmp_path / "helpers" / "models.py"
    module.write_text('"""doc."""\n\nimport os\n')
    assert export_notebooks.main(["--check"], root=tmp_path) == 1
    assert export_notebooks.main([], root=tmp_path) == 0
    text = module.read_text()
    assert text.index("def a()") < text.index("def b()")
    assert "x = a()" not in text and "print('no')" not in text and "not code" not in text
    assert "# from notebooks/01_a.ipynb" in text
    assert export_notebooks.main(["--check"], root=tmp_path) == 0
    namespace: dict = {}
    exec(compile(text, str(module), "exec"), namespace)
    assert namespace["a"]() + namespace["b"]() == 3
    # an edited notebook makes the check fail, and the export replaces (not appends) the block
    _notebook(tmp_path / "notebooks" / "02_b.ipynb", ["#@save\ndef b():\n    return 3"])
    assert export_notebooks.main(["--check"], root=tmp_path) == 1
    export_notebooks.main([], root=tmp_path)
    text = module.read_text()
    assert text.count(export_notebooks.BEGIN) == 1 and "return 3" in text and "return 2" not in text
