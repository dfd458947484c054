"""Project-level contracts: layout, make targets on a clean clone, clean notebooks, README generation."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _tracked() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    return subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()


def test_layout_has_the_entries_the_user_asked_for():
    tracked = _tracked()
    top = {path.split("/")[0] for path in tracked}
    assert {"notebooks", "helpers", "data", "requirements.txt", "README.md", "tests", "Makefile", ".ci", "benchmarks",
            "scripts"} <= top
    assert (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1] == "make test"


def test_requirements_pin_the_headless_opencv_and_no_pafy():
    lines = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().lower().splitlines()]
    names = {line.split("==")[0].split(">=")[0].split("<")[0] for line in lines if line}
    reqs = "\n".join(lines)
    assert "opencv-python-headless" in names and "opencv-python" not in names
    assert not names & {"pafy", "youtube-dl"}
    for name in ("tensorflow", "keras", "numpy", "matplotlib", "pandas", "yt-dlp", "jupyter", "nbmake",
                 "pytest", "tqdm"):
        assert name in reqs, name


def test_notebooks_are_committed_without_outputs():
    notebooks = [p for p in _tracked() if p.endswith(".ipynb")]
    assert notebooks, "no notebooks tracked"
    for path in notebooks:
        nb = json.loads((ROOT / path).read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert not cell.get("outputs") and cell.get("execution_count") is None, path


def test_make_targets_resolve_on_a_clean_clone(tmp_path):
    """A fresh clone has everything `make run` and `make test` need (dry run: nothing is installed)."""
    _tracked()
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    for target, expected in (("run", ["venv", "-r requirements.txt", "scripts/embedded.py", "papermill"]),
                             ("test", ["venv", "-r requirements.txt",
                                       "ruff check helpers har_app scripts benchmarks tests", "pytest", '-m "not slow"',
                                       "--nbmake", "HAR_QUICK=1"]),
                             ("test-all", ["pytest -q tests", "--nbmake"]),
                             ("readme", ["scripts/readme.py"]),
                             ("lab", ["-r requirements.txt", "ipykernel install --user --name har-reproduction",
                                      "--display-name", "jupyter lab notebooks"]),
                             ("seeds", ["scripts/seeds.py", "scripts/readme.py"]),
                             ("bench", ["benchmarks.bench", "scripts/readme.py"])):
        dry = subprocess.run(["make", "-n", target], cwd=clone, capture_output=True, text=True)
        assert dry.returncode == 0, dry.stderr
        for word in expected:
            assert word in dry.stdout, (target, word)
    assert sorted(p.name for p in (clone / "notebooks").glob("*.ipynb"))[0].startswith("00_")


def test_readme_dataset_line_says_when_embedded_results_are_out_of_date(tmp_path):
    from helpers.synthetic import GENERATOR_VERSION
    from scripts.readme import _dataset_line

    meta = {"dataset": "embedded (procedural, UCF50 layout)", "embedded": True, "num_clips": 640, "num_classes": 8,
            "num_frames": 20, "image_size": 64, "num_groups": 40}
    for version, stale in ((GENERATOR_VERSION, False), (GENERATOR_VERSION - 1, True), (None, True)):
        record = {**meta, **({} if version is None else {"generator_version": version})}
        (tmp_path / "dataset.json").write_text(json.dumps(record))
        line = _dataset_line(tmp_path)
        assert "640 clips (40 groups per class)" in line
        assert ("Out of date" in line) == stale, line
        assert (f"generator v{GENERATOR_VERSION})" in line) == (not stale)
        assert stale is False or f"now renders v{GENERATOR_VERSION}" in line
    # results recorded before dataset.json carried the version: the dataset folder's marker says
    dataset_dir = tmp_path / "embedded"
    dataset_dir.mkdir()
    (tmp_path / "dataset.json").write_text(json.dumps({**meta, "dataset_dir": str(dataset_dir)}))
    for version, stale in ((GENERATOR_VERSION, False), (GENERATOR_VERSION - 1, True)):
        (dataset_dir / ".complete").write_text(json.dumps({"version": version, "seed": 27}) + "\n")
        assert ("Out of date" in _dataset_line(tmp_path)) == stale


def test_make_classify_passes_the_model_only_when_given():
    def dry(*args: str) -> str:
        # under `make test` this is a sub-make: it also prints "Entering/Leaving directory" lines
        out = subprocess.run(["make", "-n", "--no-print-directory", "classify", *args], cwd=ROOT,
                             capture_output=True, text=True)
        return next(line.strip() for line in out.stdout.splitlines() if "helpers classify" in line)

    assert dry("SOURCE=a.mp4", "MODEL=m.keras").endswith('classify "a.mp4" --model "m.keras"')
    assert dry("SOURCE=a.mp4").endswith('classify "a.mp4"')


def _imports(package: str = "helpers") -> dict[str, set[str]]:
    """``{module: modules of helpers and har_app it imports}`` for one package's modules, counting imports inside
    functions too; a module of the other package is named ``package.module``."""
    import ast

    graph: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).glob("*.py")):
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module in ("helpers", "har_app"):
                deps.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ("helpers", "har_app"):
                deps.add(".".join(node.module.split(".")[:2]))
            elif isinstance(node, ast.Import):
                deps.update(".".join(a.name.split(".")[:2]) for a in node.names
                            if a.name.split(".")[0] in ("helpers", "har_app") and "." in a.name)
        ours = {dep.split(".", 1)[1] for dep in deps if dep.startswith(f"{package}.")}
        graph[path.stem] = (ours | {dep for dep in deps if not dep.startswith(f"{package}.")}) - {path.stem}
    return graph


def test_helpers_form_a_one_way_stack():
    """No import circle among helpers' modules (imports inside functions included), the CLI path (inference) never
    reaches plotting, and helpers never imports the application (har_app) but in ``python -m helpers``' forwarder."""
    import graphlib

    graph = _imports("helpers")
    try:
        list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as err:
        pytest.fail(f"import circle in helpers/: {' -> '.join(err.args[1])}")
    assert {module: deps for module, deps in graph.items() if any(d.startswith("har_app.") for d in deps)} == {
        "__main__": {"har_app.cli"}}

    def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for dep in graph.get(todo.pop(), ()):
                if dep not in seen:
                    seen.add(dep)
                    todo.append(dep)
        return seen

    assert "plots" not in reachable(graph, "inference")
    # har_app: no circle, nothing above helpers; `cli` reaches plots only through train (own_videos imports plots
    # and TensorFlow inside train_folder): drop that edge, and check in a fresh interpreter that the CLI loads neither
    app = _imports("har_app")
    list(graphlib.TopologicalSorter(app).static_order())
    helpers_graph = {f"helpers.{m}": {d if "." in d else f"helpers.{d}" for d in deps} for m, deps in graph.items()}
    whole = {**helpers_graph, **app, "own_videos": set()}
    assert "helpers.plots" not in reachable(whole, "cli")
    # nor Gradio: only `demo` loads it, when it serves (har_app.demo imports it in build_page)
    script = ("import sys, har_app.cli, har_app.demo; "
              "print(sorted({'matplotlib', 'tensorflow', 'keras', 'gradio'} & set(sys.modules)))")
    loaded = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0 and loaded.stdout.strip() == "[]", loaded.stdout + loaded.stderr


def test_studies_sit_on_top_of_helpers():
    """The studies' generated modules (studies/) may import helpers; helpers, the tools and the CLI never import
    studies, and studies import no tool (scripts, benchmarks, tests): the package works without them."""
    import ast

    def imported(path: Path) -> set[str]:
        tops = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                tops.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                tops |= {a.name.split(".")[0] for a in node.names}
        return tops

    studies = sorted((ROOT / "studies").glob("*.py"))
    assert {p.stem for p in studies} >= {"__init__", "explainability", "gan_augmentation", "leak"}
    for path in studies:
        assert not imported(path) & {"scripts", "benchmarks", "tests"}, path
    assert "helpers" in imported(ROOT / "studies" / "gan_augmentation.py")  # the check below sees imports
    for path in [*ROOT.glob("helpers/*.py"), *ROOT.glob("har_app/*.py"), *ROOT.glob("scripts/*.py"),
                 *ROOT.glob("benchmarks/*.py")]:
        assert "studies" not in imported(path), path


def test_classifying_needs_no_tensorflow_at_import():
    """What the CLI imports to classify (inference, the LiteRT runtime, the live sources) and every helpers module
    they import at module level import neither TensorFlow, Keras nor pandas: a ``.keras`` model brings them, in a
    function. (tests/test_runtime.py runs the CLI with them made unimportable.)"""
    import ast

    def top_level(module: str) -> tuple[set[str], set[str]]:
        tree = ast.parse((ROOT / f"{module.replace('.', '/')}.py").read_text(encoding="utf-8"))
        names = set()
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module:
                names |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
            elif isinstance(node, ast.Import):
                names |= {a.name for a in node.names}
        ours = {".".join(n.split(".")[:2]) for n in names if n.split(".")[0] in ("helpers", "har_app")}
        return {n.split(".")[0] for n in names}, {m for m in ours if (ROOT / f"{m.replace('.', '/')}.py").is_file()}

    seen, todo = set(), ["helpers.inference", "helpers.runtime", "helpers.annotate", "har_app.live", "har_app.demo",
                         "har_app.cli", "helpers.__main__"]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        packages, deps = top_level(module)
        assert not packages & {"tensorflow", "keras", "pandas"}, (module, packages & {"tensorflow", "keras", "pandas"})
        todo.extend(deps)
    assert {"helpers.inference", "helpers.runtime", "helpers.annotate", "har_app.live", "helpers.video",
            "helpers.flow", "har_app.own_videos"} <= seen


def test_tools_live_outside_the_package():
    """The benchmark, the README generator, the UCF download CLI and the test server are not in helpers/."""
    names = {p.stem for p in (ROOT / "helpers").glob("*.py")}
    assert not names & {"bench", "report", "serve", "datasets", "findings", "comparison", "tempdirs"}
    assert (ROOT / "benchmarks" / "bench.py").is_file() and (ROOT / "scripts" / "readme.py").is_file()
    assert (ROOT / "scripts" / "ucf_data.py").is_file() and (ROOT / "tests" / "serve.py").is_file()


def test_readme_lists_every_har_variable():
    """Every HAR_* environment variable the code, notebooks or Makefile read is in the README's table."""
    import re

    used = set()
    for path in [*ROOT.glob("helpers/*.py"), *ROOT.glob("scripts/*.py"), *ROOT.glob("benchmarks/*.py"),
                 *ROOT.glob("notebooks/*.ipynb"), ROOT / "Makefile"]:
        used |= set(re.findall(r"\bHAR_[A-Z][A-Z_]*[A-Z]\b", path.read_text()))
    assert {"HAR_QUICK", "HAR_DATASET_DIR", "HAR_HOME", "HAR_TF_LOGS"} <= used
    table = (ROOT / "README.md").read_text().split("## Environment variables", 1)[1].split("\n## ", 1)[0]
    assert not {name for name in used if f"`{name}" not in table}, "HAR_* variables missing from the README"


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_refuses_a_python_outside_requires_python_with_the_fix(tmp_path):
    """Issue 29: on 3.10 or 3.14 `make run` failed deep in pip ("No matching distribution found for tensorflow");
    now the interpreter is checked against pyproject's requires-python first (a fake one prints the version)."""
    def fake(version: str) -> Path:
        path = tmp_path / f"python{version}"
        path.write_text(f"#!/bin/sh\necho {version}\n")
        path.chmod(0o755)
        return path

    for version, ok in (("3.10", False), ("3.11", True), ("3.12", True), ("3.13", True), ("3.14", False)):
        done = subprocess.run(["make", "-s", "--no-print-directory", "check-python", f"PYTHON={fake(version)}"],
                              cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert (done.returncode == 0) == ok, (version, done.stderr)
        if not ok:
            assert done.returncode == 2 and f"is Python {version}" in done.stderr and ">=3.11,<3.14" in done.stderr
            assert "PYTHON=python3.12" in done.stderr
    missing = subprocess.run(["make", "-s", "check-python", f"PYTHON={tmp_path / 'none'}"], cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "not found" in missing.stderr and "PYTHON=python3.12" in missing.stderr
    # the venv is made only after the check (dry run: nothing runs)
    dry = subprocess.run(["make", "-n", "-B", "--no-print-directory", "setup", f"PYTHON={fake('3.10')}"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60).stdout
    assert 0 <= dry.find("requires-python") < dry.find("-m venv")
    assert "PYTHON=python3.12" in (ROOT / "README.md").read_text()


def test_make_train_passes_the_folder_and_the_options():
    dry = subprocess.run(["make", "-n", "--no-print-directory", "train", "DATA=my videos", "ARGS=--model rnn"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60).stdout
    assert 'helpers train "my videos" --model rnn' in dry
    usage = subprocess.run(["make", "-s", "--no-print-directory", "train", "-o", ".venv/.installed"], cwd=ROOT,
                           capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and "usage: make train DATA=" in usage.stderr
