"""The definitions of a notebook, loaded without running the notebook, for its tests.

Some code is defined only in a notebook, because that notebook is the one place that uses it and its
reader wants to see it there (notebook 05's DCGAN, Grad-CAM and perturbations). The notebook is then
the only definition, so its tests test the notebook: :func:`definitions` reads the notebook's code
cells, keeps the top-level imports, function and class definitions and constant assignments
(UPPER_CASE names), drops every other statement (so nothing is loaded, trained or written) and runs
what it kept, in notebook order, in one fresh namespace. A constant made from what only a run makes
(``COMPARISONS = paths.results_dir / ...``) raises NameError and is left out.
"""

from __future__ import annotations

import ast
import json
import os
import sys
import types
from collections.abc import Iterable
from pathlib import Path

_DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _is_constant(node: ast.stmt) -> bool:
    """``NAME = ...`` or ``NAME: type = ...`` with every target an UPPER_CASE name (``_PRIVATE`` too)."""
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        targets = [node.target]
    else:
        return False
    return all(isinstance(t, ast.Name) and t.id.lstrip("_").isupper() for t in targets)


def _code_cells(notebook_path: Path) -> list[str]:
    cells = json.loads(notebook_path.read_text(encoding="utf-8"))["cells"]
    sources = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
               for c in cells if c["cell_type"] == "code"]
    # IPython magics and shell lines are not Python
    return ["\n".join(line for line in s.splitlines() if not line.lstrip().startswith(("%", "!")))
            for s in sources]


def definitions(notebook_path: str | os.PathLike, *, names: Iterable[str] | None = None) -> types.SimpleNamespace:
    """The imports, functions, classes and constants a notebook defines, without running the rest.

    Args:
        notebook_path: An ``.ipynb`` file.
        names: Return only these names (KeyError if the notebook defines one of them not);
            None returns everything defined (names starting with ``__`` left out).

    Returns:
        A namespace, e.g. ``definitions(path).grad_cam``. Functions see the notebook's other
        definitions as their globals, as in the notebook.
    """
    notebook_path = Path(notebook_path)
    # a registered module, as a notebook's __main__ is: dataclasses look their class's module up in sys.modules
    module = types.ModuleType(f"notebook_{notebook_path.stem}", f"Definitions of {notebook_path.name}.")
    sys.modules[module.__name__] = module
    namespace = vars(module)
    for i, source in enumerate(_code_cells(notebook_path)):
        tree = ast.parse(source, filename=f"{notebook_path}[code cell {i}]")
        for node in tree.body:
            if not (isinstance(node, _DEFINITIONS) or _is_constant(node)):
                continue
            code = compile(ast.Module(body=[node], type_ignores=[]), f"{notebook_path}[code cell {i}]", "exec")
            try:
                exec(code, namespace)
            except NameError:
                if isinstance(node, _DEFINITIONS):
                    raise
                # a constant made from run-time state (e.g. ``paths.results_dir / ...``): left out
    defined = {k: v for k, v in namespace.items() if not k.startswith("__")}
    if names is None:
        return types.SimpleNamespace(**defined)
    names = list(names)
    missing = [n for n in names if n not in defined]
    if missing:
        raise KeyError(f"{notebook_path.name} defines no {', '.join(missing)}")
    return types.SimpleNamespace(**{n: defined[n] for n in names})
