"""Copy the notebooks' ``#@save`` cells into ``helpers/models.py``: one definition of each paper model.

d2l's habit: the notebook that introduces a model defines it on screen, in a code cell whose
first line is ``#@save``; this script copies those cells, in notebook order, into a generated
block at the end of ``helpers/models.py`` so that the CLI, the other notebooks and the tests
import the very same code (``from helpers.models import build_lrcn``). ``make export`` writes
the block; ``tests/test_export.py`` fails when the notebooks and the package differ.

    python scripts/export_notebooks.py           # rewrite the block
    python scripts/export_notebooks.py --check   # exit 1 if the block is out of date
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARK = "#@save"
BEGIN = "# --- BEGIN exported from the notebooks' #@save cells by `make export`: edit the notebooks, not this block ---"
END = "# --- END exported from the notebooks ---"


def saved_cells(notebook: Path) -> list[str]:
    """Sources of ``notebook``'s code cells whose first line is ``#@save``, without that line."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    sources = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
               for c in cells if c["cell_type"] == "code"]
    return [src.split("\n", 1)[1].strip("\n") if "\n" in src else ""
            for src in sources if src.split("\n", 1)[0].strip() == MARK]


def exported_block(notebooks: list[Path], *, root: Path = ROOT) -> str:
    """The generated block: every ``#@save`` cell, each headed by the notebook it comes from."""
    parts = [BEGIN]
    for nb in notebooks:
        for source in saved_cells(nb):
            parts.append(f"\n\n# from {nb.relative_to(root).as_posix()}\n{source}")
    parts.append(f"\n\n\n{END}\n")
    return "".join(parts)


def render(module_text: str, block: str) -> str:
    """``module_text`` with its generated block replaced by ``block`` (appended when it has none)."""
    if BEGIN in module_text:
        head, rest = module_text.split(BEGIN, 1)
        if END not in rest:
            raise ValueError(f"the module has {BEGIN!r} but no {END!r}")
        tail = rest.split(END, 1)[1].lstrip("\n")
        return head + block + (f"\n{tail}" if tail else "")
    return module_text.rstrip("\n") + "\n\n\n" + block


def main(argv: list[str] | None = None, *, root: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if helpers/models.py is out of date")
    args = parser.parse_args(argv)
    module = root / "helpers" / "models.py"
    notebooks = sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    current = module.read_text(encoding="utf-8")
    wanted = render(current, exported_block(notebooks, root=root))
    if args.check:
        if wanted != current:
            print(f"{module.relative_to(root)} differs from the notebooks' #@save cells: run `make export`",
                  file=sys.stderr)
            return 1
        return 0
    if wanted != current:
        tmp = module.with_suffix(".py.tmp")
        tmp.write_text(wanted, encoding="utf-8")
        tmp.replace(module)
        print(f"wrote {module.relative_to(root)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
