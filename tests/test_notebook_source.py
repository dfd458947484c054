"""scripts/notebook_source.py: definitions kept, everything else dropped."""

from __future__ import annotations

import json

import pytest

from scripts.notebook_source import definitions


def write_notebook(path, *sources: str, markdown: str = "# title") -> None:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": [markdown]}]
    cells += [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
               "source": source.splitlines(keepends=True)} for source in sources]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))


def test_definitions_kept_and_statements_dropped(tmp_path):
    notebook = tmp_path / "nb.ipynb"
    written = tmp_path / "written.txt"
    write_notebook(
        notebook,
        "import math\nfrom pathlib import Path\n\nSCALE = 2\n_TABLE: dict = {'a': 1}\nmodel = train()  # not defined\n",
        f"%matplotlib inline\nPath({str(written)!r}).write_text('x')\n\n"
        "def area(r):\n    '''Scaled area.'''\n    return SCALE * math.pi * r ** 2\n\n\n"
        "class Box:\n    size = SCALE\n\n\nhistory = area(1)\nprint('trained')\n",
    )
    nb = definitions(notebook)
    assert nb.area(1) == pytest.approx(2 * 3.141592653589793) and nb.Box.size == 2 and nb._TABLE == {"a": 1}
    assert not hasattr(nb, "model") and not hasattr(nb, "history")
    assert not written.exists()  # the write and the training call were dropped, not run
    assert vars(definitions(notebook, names=["area"])).keys() == {"area"}
    with pytest.raises(KeyError, match="history"):
        definitions(notebook, names=["area", "history"])
