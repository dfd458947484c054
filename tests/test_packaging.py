"""Packaging: the wheel declares the dependencies, and requires-python is what the pins support."""

from __future__ import annotations

import email.parser
import importlib.metadata
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _pins() -> dict[str, str]:
    """``name -> version`` of every ``==`` pin in requirements.txt."""
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            req = Requirement(line)
            exact = [spec.version for spec in req.specifier if spec.operator == "=="]
            if exact:
                pins[req.name] = exact[0]
    return pins


def _minimum_python() -> Version:
    lower = [Version(spec.version) for spec in SpecifierSet(PROJECT["requires-python"]) if spec.operator == ">="]
    assert lower, "requires-python needs a >= lower bound"
    return max(lower)


def test_requires_python_admits_every_pin():
    """Each pinned distribution, as installed in the venv, accepts the minimum Python of requires-python
    (a pin that needs a newer Python would make the claim false)."""
    minimum = _minimum_python()
    assert Version(f"{sys.version_info.major}.{sys.version_info.minor}") in SpecifierSet(PROJECT["requires-python"])
    pins = _pins()
    assert {"tensorflow", "keras", "pandas", "yt-dlp"} <= pins.keys()
    refused = {}
    for name, version in pins.items():
        metadata = importlib.metadata.metadata(name)
        assert metadata["Version"] == version, f"{name}: venv has {metadata['Version']}, requirements pin {version}"
        needs = metadata.get("Requires-Python")
        if needs and minimum not in SpecifierSet(needs):
            refused[name] = needs
    assert not refused, f"pins that refuse Python {minimum}: {refused}"


def test_requires_python_is_as_low_as_the_pins_allow():
    """The lower bound is the strictest pin's: one of them needs exactly the minimum."""
    minimum = _minimum_python()
    needs = [importlib.metadata.metadata(name).get("Requires-Python") for name in _pins()]
    assert any(spec and Version(f"{minimum.major}.{minimum.minor - 1}") not in SpecifierSet(spec) for spec in needs)


def test_pyproject_ranges_admit_the_pins():
    """Every runtime dependency of pyproject.toml accepts the version requirements.txt pins."""
    pins = _pins()
    for line in PROJECT["dependencies"]:
        req = Requirement(line)
        if req.name in pins:
            assert req.specifier.contains(pins[req.name], prereleases=True), (line, pins[req.name])


@pytest.fixture(scope="module")
def wheel_metadata(tmp_path_factory) -> email.message.Message:
    """METADATA of a wheel built from a copy of the repo's packaging files (offline: no build isolation)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    for package in ("helpers", "har_app"):
        shutil.copytree(ROOT / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                            "--wheel-dir", str(out), str(src)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
        entry_points = archive.read(meta.replace("METADATA", "entry_points.txt")).decode()
        message = email.parser.Parser().parsestr(archive.read(meta).decode())
    message["X-Files"] = " ".join(names)
    message["X-Entry-Points"] = "; ".join(" ".join(line.split()) for line in entry_points.splitlines())
    return message


def test_wheel_declares_the_dependencies(wheel_metadata):
    assert wheel_metadata["Name"] == "har-reproduction"  # not PyPI's unrelated `helpers`
    assert SpecifierSet(wheel_metadata["Requires-Python"]) == SpecifierSet(PROJECT["requires-python"])
    requires = [Requirement(line) for line in wheel_metadata.get_all("Requires-Dist")]
    runtime = {req.name for req in requires if req.marker is None}
    assert {"tensorflow", "keras", "opencv-python-headless", "numpy", "pandas", "matplotlib", "tqdm",
            "yt-dlp"} <= runtime
    assert {"default", "deno"} <= next(req.extras for req in requires if req.name == "yt-dlp" and req.marker is None)
    assert {"gpu", "dev", "demo"} <= set(wheel_metadata.get_all("Provides-Extra"))
    gpu = [req for req in requires if req.marker is not None and req.marker.evaluate({"extra": "gpu"})]
    assert any(req.name == "tensorflow" and "and-cuda" in req.extras for req in gpu)
    dev = {req.name for req in requires if req.marker is not None and req.marker.evaluate({"extra": "dev"})}
    assert {"pytest", "ruff", "nbmake", "jupyter", "selenium"} <= dev
    demo = [req for req in requires if req.marker is not None and req.marker.evaluate({"extra": "demo"})]
    assert [req.name for req in demo] == ["gradio"] and demo[0].specifier.contains(_pins()["gradio"])


def test_wheel_ships_the_helpers_package_and_the_entry_point(wheel_metadata):
    """helpers and the application on top of it (har_app: the CLI behind `python -m helpers` and har-classify);
    no tools, no studies."""
    files = wheel_metadata["X-Files"].split()
    assert "helpers/__init__.py" in files and "helpers/__main__.py" in files
    assert {"har_app/__init__.py", "har_app/__main__.py", "har_app/cli.py", "har_app/live.py"} <= set(files)
    assert not any(re.match(r"(tests|notebooks|scripts|benchmarks|studies)/", name) for name in files)
    assert "har-classify = har_app.cli:main" in wheel_metadata["X-Entry-Points"]
