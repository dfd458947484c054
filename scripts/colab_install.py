"""Install into a hosted notebook (Colab) only what it lacks of this project's dependencies.

The Colab set-up cell (``scripts/colab_setup.py``, also in the README) runs this with the kernel's own
Python after cloning the repository. It reads the package's dependency ranges (``pyproject.toml``:
what the code needs, not ``requirements.txt``'s exact pins and test tools) and, for each one:

* the host's installed version satisfies the range: nothing is installed;
* the host has it in another version and it is one of the kernel's own packages (:data:`PROTECTED`:
  ipykernel, IPython, notebook, tornado, pandas, NumPy ...): the host's version is kept, and one
  ``note:`` line says so (replacing them breaks the running kernel or needs a restart);
* otherwise it is installed, with every protected package the host has pinned as a pip constraint
  (``-c``), so that no dependency of what is installed replaces one either.

With a GPU (``nvidia-smi`` on the PATH) TensorFlow comes from the ``gpu`` extra (``tensorflow[and-cuda]``).
Why a script and not ``pip install -r requirements.txt``: that replaced Colab's ipykernel, IPython,
notebook, tornado and pandas with the reproducible environment's pins (issue 29).

    python scripts/colab_install.py [--dry-run] [--host FREEZE_FILE]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
#: The host's kernel and data stack: never replaced (a replaced one breaks the running kernel or needs a restart).
PROTECTED = ("google-colab", "ipykernel", "ipython", "jupyter-client", "jupyter-core", "jupyter-server", "notebook",
             "tornado", "traitlets", "pyzmq", "pandas", "numpy")


@dataclass
class Plan:
    """What to install (requirement strings), the pip constraints that protect the host, and notes."""

    install: list[str]
    constraints: list[str]
    notes: list[str]


def dependencies(pyproject: Path = ROOT / "pyproject.toml", *, gpu: bool = False) -> list[Requirement]:
    """The package's dependency ranges; with ``gpu`` TensorFlow as its ``gpu`` extra gives it."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    requirements = [Requirement(text) for text in project["dependencies"]]
    if gpu:
        extra = {canonicalize_name(r.name): r for r in map(Requirement, project["optional-dependencies"]["gpu"])}
        requirements = [extra.get(canonicalize_name(r.name), r) for r in requirements]
    return requirements


def host_packages(freeze: Path | None = None) -> dict[str, str]:
    """``{canonical name: version}`` of the host: this Python's distributions, or a ``name==version`` file."""
    if freeze is None:
        return {canonicalize_name(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}
    pairs = (line.split("#")[0].strip().split("==") for line in freeze.read_text(encoding="utf-8").splitlines())
    return {canonicalize_name(p[0]): p[1] for p in pairs if len(p) == 2}


def plan(requirements: list[Requirement], host: dict[str, str], *, protected: tuple[str, ...] = PROTECTED) -> Plan:
    """Which requirements the host lacks (see the module's docstring)."""
    install, notes = [], []
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        have = host.get(name)
        if have is not None and requirement.specifier.contains(have, prereleases=True):
            continue
        if have is not None and name in protected:
            notes.append(f"{name} {have} kept (the host's own; this project is tested with {requirement.specifier})")
            continue
        install.append(str(requirement))
    return Plan(install, [f"{name}=={host[name]}" for name in protected if name in host], notes)


def pip_command(plan: Plan, constraints_file: Path, *, options: tuple[str, ...] = ("--quiet",)) -> list[str]:
    """The ``pip install`` of ``plan`` under the host's constraints (``options``: e.g. ``--dry-run --report -``)."""
    return [sys.executable, "-m", "pip", "install", *options, "-c", str(constraints_file), *plan.install]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="print what pip would install, install nothing")
    parser.add_argument("--host", type=Path, default=None, help="a name==version file instead of this Python's")
    args = parser.parse_args(argv)
    todo = plan(dependencies(gpu=shutil.which("nvidia-smi") is not None), host_packages(args.host))
    for note in todo.notes:
        print(f"note: {note}")
    if not todo.install:
        print("nothing to install: the host has every dependency")
        return 0
    print(f"installing: {' '.join(todo.install)}")
    with tempfile.TemporaryDirectory() as folder:
        constraints = Path(folder) / "host_constraints.txt"
        constraints.write_text("\n".join(todo.constraints) + "\n", encoding="utf-8")
        options = ("--dry-run", "--quiet", "--report", "-") if args.dry_run else ("--quiet",)
        return subprocess.run(pip_command(todo, constraints, options=options)).returncode


if __name__ == "__main__":
    raise SystemExit(main())
