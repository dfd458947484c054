"""The Colab set-up cell: inert elsewhere, a clear message without REPO, and an install of only what the host lacks
that never replaces its kernel packages (planned offline against a hosted image's package list; resolved by pip's
dry run when PyPI is reachable)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from scripts.colab_install import PROTECTED, dependencies, host_packages, pip_command, plan

ROOT = Path(__file__).resolve().parent.parent
CELL = ROOT / "scripts" / "colab_setup.py"
HOSTED = ROOT / "tests" / "data" / "colab_constraints.txt"


def _run_cell(monkeypatch, source: str | None = None) -> list:
    """Execute the cell with subprocess.run and os.chdir recorded, not run; returns the calls."""
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append(("run", cmd)))
    monkeypatch.setattr(os, "chdir", lambda path: calls.append(("chdir", path)))
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    monkeypatch.setenv("HAR_QUICK", os.environ.get("HAR_QUICK", ""))
    exec(compile(source or CELL.read_text(), str(CELL), "exec"), {})
    return calls


def test_the_cell_does_nothing_outside_colab(monkeypatch):
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert _run_cell(monkeypatch) == []


def test_the_cell_on_colab_asks_for_the_repository_then_clones_and_installs(monkeypatch):
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab-test")
    with pytest.raises(ValueError, match=r"^REPO is empty: set it in this cell to this repository's clone URL"):
        _run_cell(monkeypatch)
    source = CELL.read_text()
    assert source.count('REPO = ""') == 1
    calls = _run_cell(monkeypatch, source.replace('REPO = ""', 'REPO = "https://example.org/har.git"'))
    assert calls[0] == ("run", ["git", "clone", "--depth", "1", "https://example.org/har.git", "/content/har"])
    assert calls[1] == ("run", [sys.executable, "/content/har/scripts/colab_install.py"])
    assert calls[2] == ("chdir", "/content/har/notebooks") and os.environ["HAR_QUICK"] == "1"
    assert "/content/har" in sys.path and os.environ["PYTHONPATH"] == "/content/har"


def test_the_readme_shows_the_cell_as_it_is():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- BEGIN colab -->\n", 1)[1].split("<!-- END colab -->", 1)[0]
    assert block == f"```python\n{CELL.read_text()}```\n"
    assert "<owner>" not in readme and "<repository>" not in readme


def test_the_install_keeps_the_hosts_kernel_packages_and_adds_only_what_it_lacks():
    host = host_packages(HOSTED)
    assert {"ipykernel", "ipython", "notebook", "tornado", "pandas"} <= set(host) <= set(host) | set(PROTECTED)
    todo = plan(dependencies(gpu=True), host)
    installed = {r.split("[")[0].split(">")[0].split("<")[0].split("=")[0] for r in todo.install}
    pinned = {line.split("==")[0] for line in todo.constraints}
    assert not installed & pinned  # nothing the constraints hold is asked for
    assert not installed & set(PROTECTED)
    assert {f"{name}=={host[name]}" for name in ("ipykernel", "ipython", "notebook", "tornado", "pandas", "numpy")} \
        <= set(todo.constraints)
    for requirement in dependencies(gpu=True):  # what the host has in a fitting version is left alone
        name = requirement.name.lower()
        assert (name in installed) == (name not in pinned and not requirement.specifier.contains(host.get(name, "0")))
    assert "opencv-python-headless" not in installed and "av" in installed  # 4.12.0.88 fits; PyAV is missing
    assert any(r.startswith("tensorflow[and-cuda]") for r in todo.install)  # Colab's 2.19 is too old
    assert any(note.startswith("pandas 2.2.2 kept") for note in todo.notes)
    # a host that has every dependency in a fitting version (its lower bound) gets nothing installed
    lower = {r.name.lower(): next(s.version for s in r.specifier if s.operator == ">=") for r in dependencies()}
    assert plan(dependencies(), lower).install == [] and plan(dependencies(), {}).constraints == []


def _pypi_reachable() -> bool:
    try:
        urllib.request.urlopen("https://pypi.org/simple/pip/", timeout=5).close()
    except OSError:
        return False
    return True


@pytest.mark.slow
@pytest.mark.skipif(not _pypi_reachable(), reason="PyPI is unreachable (pip's dry run needs the index)")
def test_pip_resolves_the_install_against_the_hosted_image(tmp_path):
    """pip's own resolver, for Colab's Python 3.12 on Linux: the plan installs, and the host's kernel packages stay."""
    host = host_packages(HOSTED)
    todo = plan(dependencies(gpu=True), host)
    constraints = tmp_path / "host_constraints.txt"
    constraints.write_text("\n".join(todo.constraints) + "\n")
    platforms = [f"--platform={p}" for p in ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64",
                                              "manylinux2014_x86_64", "linux_x86_64", "any")]
    report = tmp_path / "report.json"
    command = pip_command(todo, constraints, options=("--dry-run", "--quiet", "--report", str(report),
                                                      "--ignore-installed", "--python-version=3.12",
                                                      "--only-binary=:all:", *platforms))
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    installs = json.loads(report.read_text())["install"]
    resolved = {canonicalize_name(i["metadata"]["name"]): i["metadata"]["version"] for i in installs}
    for name in PROTECTED:
        assert name not in resolved or resolved[name] == host[name], name  # a dependency, at the host's version
    assert resolved["tensorflow"].startswith("2.21.")


def test_notebook_00_starts_with_the_cell():
    """The README shows the cell (scripts/readme.py), and notebook 00's first code cell is the same text."""
    cells = json.loads((ROOT / "notebooks" / "00_data.ipynb").read_text(encoding="utf-8"))["cells"]
    first = next(c for c in cells if c["cell_type"] == "code")
    assert "".join(first["source"]).rstrip("\n") == CELL.read_text().rstrip("\n")
