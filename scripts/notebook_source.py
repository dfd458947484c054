"""Reading a notebook's code without running the notebook: the one way the project does it.

Three users, one reader:

* ``make export`` (:mod:`scripts.export_notebooks`) takes the definitions a notebook marks ``#@save``
  (:func:`marked_definitions`) and the imports they need (:func:`notebook_imports`);
* ``make seeds`` (:mod:`scripts.seeds`) runs a notebook's import, ``parameters`` and ``# DATA`` config
  cells (:func:`notebook_config`) to train with the notebook's own settings;
* the tests load the functions a notebook defines for itself (:func:`definitions`), without training.

The marker, as in d2l: a comment ``#@save`` (``# @save`` too) in the comment lines right above a top-level
``def``, ``class`` or ``NAME = ...`` marks that one definition; blank lines and other comments may stand
before and after it. A cell's first lines ``#@save`` therefore mark the cell's first definition only:
every definition the package gets is marked where it is written.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import linecache
import os
import re
import sys
import types
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

MARK = re.compile(r"^\s*#\s*@save\b")
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass(frozen=True)
class Cell:
    """One code cell: its source (IPython ``%``/``!`` lines blanked, so line numbers hold) and its tags."""

    index: int
    source: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Definition:
    """One marked top-level definition: its name and its source (with the comments under the marker)."""

    name: str
    source: str


def code_cells(notebook: str | os.PathLike) -> list[Cell]:
    """The code cells of ``notebook``, in order (``index`` counts code cells only)."""
    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    out = []
    for cell in (c for c in cells if c["cell_type"] == "code"):
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        # IPython magics and shell lines are not Python
        source = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
        out.append(Cell(len(out), source, tuple(cell.get("metadata", {}).get("tags", []))))
    return out


def _target_names(node: ast.stmt) -> list[str]:
    """The names a definition binds: ``def f``/``class C`` -> [f]/[C]; ``A = B = ...`` -> [A, B]; else []."""
    if isinstance(node, _DEFINITIONS):
        return [node.name]
    targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) \
        else []
    return [t.id for t in targets if isinstance(t, ast.Name)]


def marked_definitions(notebook: str | os.PathLike) -> list[Definition]:
    """The top-level definitions ``notebook`` marks ``#@save``, in notebook order.

    Raises:
        ValueError: A marker above something that is not a definition (names the notebook and cell).
    """
    notebook = Path(notebook)
    found = []
    for cell in code_cells(notebook):
        lines = cell.source.splitlines()
        tree = ast.parse(cell.source, filename=f"{notebook.name}[code cell {cell.index}]")
        previous_end = 0
        for node in tree.body:
            start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            above = lines[previous_end:start - 1]  # the comment and blank lines between it and the statement before
            previous_end = node.end_lineno
            marks = [i for i, line in enumerate(above) if MARK.match(line)]
            if not marks:
                continue
            names = _target_names(node)
            if not names:
                raise ValueError(f"{notebook.name}, code cell {cell.index}, line {start}: #@save marks a "
                                 f"{type(node).__name__}, not a def, class or NAME = ... assignment")
            # the comments under the marker go along (they explain the definition); the marker does not
            comments = [line for line in above[marks[-1] + 1:] if line.strip()]
            source = "\n".join(comments + lines[start - 1:node.end_lineno])
            found.append(Definition(names[0], source))
    return found


def notebook_imports(notebook: str | os.PathLike) -> dict[str, ast.stmt]:
    """Name -> a one-name import statement binding it, from every top-level import of ``notebook``."""
    bound: dict[str, ast.stmt] = {}
    for cell in code_cells(notebook):
        for node in ast.parse(cell.source).body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    bound[alias.asname or alias.name.split(".")[0]] = ast.Import(names=[alias])
            elif isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    bound[alias.asname or alias.name] = ast.ImportFrom(module=node.module, names=[alias],
                                                                       level=node.level)
    return bound


def notebook_config(notebook: str | os.PathLike) -> dict:
    """Run ``notebook``'s import cell, its ``parameters`` cell and its config cell (the code cell starting with
    ``# DATA``), as papermill would with no override; return their UPPER_CASE names."""
    notebook = Path(notebook)
    cells = code_cells(notebook)
    parameters = [c.source for c in cells if "parameters" in c.tags]
    config = next((c.source for c in cells if c.source.startswith("# DATA")), None)
    if config is None or len(parameters) != 1 or not cells:
        raise ValueError(f"{notebook}: needs one cell tagged 'parameters' and a config cell (starting with '# DATA')")
    namespace: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):  # a config cell may print the profile
        for name, source in (("imports", cells[0].source), ("parameters", parameters[0]), ("config", config)):
            filename = f"{notebook.name}:{name}"
            # as Jupyter does for a cell: the source is findable, so settings_hash hashes a lambda by its text
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            exec(compile(source, filename, "exec"), namespace)
    return {name: value for name, value in namespace.items() if name.isupper()}


def _is_constant(node: ast.stmt) -> bool:
    """``NAME = ...`` or ``NAME: type = ...`` with every target an UPPER_CASE name (``_PRIVATE`` too)."""
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        targets = [node.target]
    else:
        return False
    return all(isinstance(t, ast.Name) and t.id.lstrip("_").isupper() for t in targets)


def definitions(notebook: str | os.PathLike, *, names: Iterable[str] | None = None) -> types.SimpleNamespace:
    """The imports, functions, classes and constants a notebook defines, without running the rest.

    For code only one notebook uses and defines on screen (its reader wants to see it there): the tests test
    the notebook's own definition. Every other statement is dropped (nothing is loaded, trained or written);
    a constant made from what only a run makes (``COMPARISONS = paths.results_dir / ...``) raises NameError
    and is left out.

    Args:
        notebook: An ``.ipynb`` file.
        names: Return only these names (KeyError if the notebook defines one of them not);
            None returns everything defined (names starting with ``__`` left out).

    Returns:
        A namespace, e.g. ``definitions(path).grad_cam``. Functions see the notebook's other
        definitions as their globals, as in the notebook.
    """
    notebook = Path(notebook)
    # a registered module, as a notebook's __main__ is: dataclasses look their class's module up in sys.modules
    module = types.ModuleType(f"notebook_{notebook.stem}", f"Definitions of {notebook.name}.")
    sys.modules[module.__name__] = module
    namespace = vars(module)
    for cell in code_cells(notebook):
        filename = f"{notebook}[code cell {cell.index}]"
        for node in ast.parse(cell.source, filename=filename).body:
            kept = isinstance(node, (*_DEFINITIONS, ast.Import, ast.ImportFrom))
            if not (kept or _is_constant(node)):
                continue
            try:
                exec(compile(ast.Module(body=[node], type_ignores=[]), filename, "exec"), namespace)
            except NameError:
                if kept:
                    raise
    defined = {k: v for k, v in namespace.items() if not k.startswith("__")}
    if names is None:
        return types.SimpleNamespace(**defined)
    names = list(names)
    missing = [n for n in names if n not in defined]
    if missing:
        raise KeyError(f"{notebook.name} defines no {', '.join(missing)}")
    return types.SimpleNamespace(**{n: defined[n] for n in names})
