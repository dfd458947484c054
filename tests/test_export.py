"""scripts/export_notebooks.py (`make export`): the notebooks' #@save definitions and helpers/paper_models.py (the
studies': studies/*.py) stay one definition; each generated module imports, passes ruff and carries the imports its
definitions use."""

import importlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scripts import export_notebooks
from scripts.notebook_source import marked_definitions

ROOT = Path(__file__).resolve().parent.parent
RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")


def _notebook(path: Path, sources: list[str]) -> Path:
    cells = [{"cell_type": "code", "source": s.splitlines(keepends=True), "metadata": {}, "outputs": [],
              "execution_count": None} for s in sources]
    cells.insert(0, {"cell_type": "markdown", "source": "#@save\nnot code", "metadata": {}})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def _ruff(path: Path) -> subprocess.CompletedProcess:
    assert RUFF, "ruff is not installed (requirements.txt)"
    return subprocess.run([RUFF, "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), str(path)],
                          capture_output=True, text=True, timeout=60)


def test_paper_models_equals_a_fresh_export_imports_and_lints():
    assert export_notebooks.main(["--check"]) == 0, "run `make export`"
    module = ROOT / export_notebooks.MODULE
    assert module.read_text(encoding="utf-8").startswith('"""Generated from notebooks/')
    lint = _ruff(module)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    paper_models = importlib.import_module("helpers.paper_models")
    for name in ("build_lrcn", "build_convlstm", "build_cnn", "build_rnn", "build_hybrid", "FRAME_MODES"):
        assert hasattr(paper_models, name)
    assert not [n for n in vars(paper_models) if n.startswith("_") and not n.startswith("__")]  # nothing private
    model = paper_models.build_cnn(num_classes=3, num_frames=4, image_size=32)  # the imports reach a call
    assert model.output_shape == (None, 3)


@pytest.mark.parametrize(("notebook", "names"), [
    ("07_explainability.ipynb", ("METHODS", "find_cam_layer", "grad_cam", "upsample_cams", "plot_grad_cam")),
    ("08_gan_augmentation.ipynb", ("build_generator", "build_discriminator", "ConditionalGAN", "GanRun", "train_dcgan",
                                   "sample_frames")),
    ("09_leak.ipynb", ("NOTEBOOK", "FORMERLY", "colour_histograms", "nearest_neighbour_predict")),
])
def test_study_modules_equal_a_fresh_export_import_and_lint(notebook, names):
    assert export_notebooks.main(["--check"]) == 0, "run `make export`"
    path = export_notebooks.STUDY_MODULES[notebook]
    module = ROOT / path
    assert module.read_text(encoding="utf-8").startswith(f'"""Generated from notebooks/{notebook}: edit the notebook')
    lint = _ruff(module)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    study = importlib.import_module(".".join(path.with_suffix("").parts))
    assert all(hasattr(study, name) for name in names)
    # the study's code stays out of the package: nothing of it in paper_models
    paper_models = (ROOT / export_notebooks.MODULE).read_text(encoding="utf-8")
    assert notebook not in paper_models and f"\ndef {names[-1]}(" not in paper_models


def test_a_study_notebook_exports_to_its_own_module(tmp_path):
    _notebook(tmp_path / "notebooks" / "01_a.ipynb", ["#@save\ndef a():\n    return 1\n"])
    # a constant first: one blank line after the imports (isort), two before a def
    _notebook(tmp_path / "notebooks" / "09_leak.ipynb", [
        "import numpy as np\n\n#@save\nNOTEBOOK = '09_leak'\n\n\n#@save\ndef twice(x):\n    return np.multiply(x, 2)\n",
    ])
    (tmp_path / "helpers").mkdir()
    assert export_notebooks.main([], root=tmp_path) == 0
    study = tmp_path / export_notebooks.STUDY_MODULES["09_leak.ipynb"]
    text, paper_models = study.read_text(), (tmp_path / export_notebooks.MODULE).read_text()
    assert text.startswith('"""Generated from notebooks/09_leak.ipynb: edit the notebook, then `make export`.')
    assert "def twice(" in text and "def a(" not in text and "def a(" in paper_models and "twice" not in paper_models
    assert "import numpy as np\n\n# from notebooks/09_leak.ipynb\nNOTEBOOK = '09_leak'\n" in text
    lint = _ruff(study)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    # --check covers the study modules too
    assert export_notebooks.main(["--check"], root=tmp_path) == 0
    study.write_text(text.replace("2)", "3)"))
    assert export_notebooks.main(["--check"], root=tmp_path) == 1
    assert export_notebooks.main([], root=tmp_path) == 0 and study.read_text() == text


def test_export_takes_marked_definitions_one_at_a_time_with_their_imports(tmp_path):
    _notebook(tmp_path / "notebooks" / "01_a.ipynb", [
        "import math\nimport os\nfrom collections.abc import Sequence\n\nimport numpy as np\n",
        "#@save\ndef a(x: Sequence[float]) -> float:\n    return float(np.sum(x)) + SCALE\n\n\n"
        "def _private():\n    return os.sep\n\n\n# @save\n# the scale (a comment under the marker goes along)\n"
        "SCALE = math.pi\n",
        "x = a([1.0])",
    ])
    # the marker after leading blank lines and other comments still counts
    _notebook(tmp_path / "notebooks" / "02_b.ipynb",
              ["print('no')", "\n\n# paper 000\n#@save\ndef b():\n    return 2\n"])
    module = tmp_path / export_notebooks.MODULE
    module.parent.mkdir()
    assert export_notebooks.main(["--check"], root=tmp_path) == 1  # missing
    assert export_notebooks.main([], root=tmp_path) == 0
    text = module.read_text()
    assert text.startswith('"""Generated from notebooks/01_a.ipynb, notebooks/02_b.ipynb: edit the notebook, then '
                           "`make export`.")
    assert text.index("def a(") < text.index("SCALE = math.pi") < text.index("def b()")
    for absent in ("_private", "import os", "x = a(", "print('no')", "not code", "\n#@save", "\n# @save", "paper 000"):
        assert absent not in text
    assert "# the scale" in text and "# from notebooks/01_a.ipynb" in text
    assert "import math\nfrom collections.abc import Sequence\n\nimport numpy as np\n" in text
    assert export_notebooks.main(["--check"], root=tmp_path) == 0
    lint = _ruff(module)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    namespace: dict = {}
    exec(compile(text, str(module), "exec"), namespace)
    assert namespace["a"]([1.0, 2.0]) == pytest.approx(3 + 3.141592653589793) and namespace["b"]() == 2
    # an edited notebook makes the check fail, and the export rewrites the whole module
    _notebook(tmp_path / "notebooks" / "02_b.ipynb", ["#@save\ndef b():\n    return 3"])
    assert export_notebooks.main(["--check"], root=tmp_path) == 1
    export_notebooks.main([], root=tmp_path)
    text = module.read_text()
    assert "return 3" in text and "return 2" not in text and text.count("def b()") == 1


@pytest.mark.parametrize(("source", "message"), [
    ("import numpy as np\n\n\ndef _helper():\n    return 1\n\n\n#@save\ndef f():\n    return _helper() + np.e\n",
     "f uses _helper, which the notebook defines without #@save"),
    ("#@save\ndef f():\n    return np.e\n", "f uses np, which no import or definition of the notebook binds"),
    ("#@save\nprint('x')\n", "#@save marks a Expr"),
])
def test_export_refuses_what_would_fail_when_called(tmp_path, capsys, source, message):
    _notebook(tmp_path / "notebooks" / "01_a.ipynb", [source])
    (tmp_path / "helpers").mkdir()
    assert export_notebooks.main([], root=tmp_path) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / export_notebooks.MODULE).exists()


def test_every_marked_definition_of_the_notebooks_is_exported_once():
    modules: dict[Path, list[str]] = {}
    for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        module = export_notebooks.STUDY_MODULES.get(nb.name, export_notebooks.MODULE)
        modules.setdefault(module, []).extend(d.name for d in marked_definitions(nb))
    assert "build_lrcn" in modules[export_notebooks.MODULE] and "grad_cam" in modules[Path("studies/explainability.py")]
    for module, names in modules.items():
        assert len(names) == len(set(names)), module
        text = (ROOT / module).read_text(encoding="utf-8")
        assert all(re.search(rf"^(def |class ){n}\b|^{n} = ", text, re.MULTILINE) for n in names), module
