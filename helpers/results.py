"""Tables that notebooks write into the results folder (CSV + Markdown), atomically.

Numbers quoted in the README or in a notebook's prose come from these files, never
typed by hand.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from helpers.atomic import write_text


def to_markdown(df: pd.DataFrame, *, floatfmt: str = ".4f") -> str:
    """A GitHub Markdown table (no extra dependency such as tabulate)."""
    def cell(v: object) -> str:
        if isinstance(v, float):
            return format(v, floatfmt)
        return str(v)

    header = "| " + " | ".join(str(c) for c in df.columns) + " |"
    rule = "| " + " | ".join("---" for _ in df.columns) + " |"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([header, rule, *rows]) + "\n"


def write_table(df: pd.DataFrame, path: str | os.PathLike, *, floatfmt: str = ".4f") -> Path:
    """Write ``df`` to ``path`` (``.csv``) and beside it as ``.md``; returns the CSV path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, df.to_csv(index=False))
    write_text(path.with_suffix(".md"), to_markdown(df, floatfmt=floatfmt))
    return path


def upsert_rows(path: str | os.PathLike, rows: pd.DataFrame, *, key: Sequence[str], columns: Sequence[str]
                ) -> pd.DataFrame:
    """Merge ``rows`` into the table at ``path``, replacing rows with the same ``key``.

    Lets several notebooks fill one table (e.g. 01 writes the LRCN rows of
    ``paper001.csv``, 02 the ConvLSTM rows). Returns the merged table.
    """
    path = Path(path)
    missing = [c for c in columns if c not in rows.columns]
    if missing:
        raise ValueError(f"rows lack columns {missing}")
    rows = rows[list(columns)]
    if path.exists():
        old = pd.read_csv(path)
        keys = set(map(tuple, rows[list(key)].astype(str).values))
        keep = ~old[list(key)].astype(str).apply(tuple, axis=1).isin(keys)
        rows = pd.concat([old.loc[keep, list(columns)], rows], ignore_index=True)
    rows = rows.sort_values(list(key), kind="stable").reset_index(drop=True)
    write_table(rows, path)
    return rows


def write_json(path: str | os.PathLike, data: dict) -> Path:
    """Write ``data`` as indented JSON, atomically."""
    import json

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(data, indent=2, default=str) + "\n")
    return path


def record_dataset(results_dir: str | os.PathLike, *, dataset_dir: str | os.PathLike, embedded: bool,
                   class_names: Sequence[str], num_clips: int, num_frames: int, image_size: int,
                   num_groups: int | None = None, generator_version: int | None = None) -> Path:
    """Write ``dataset.json``: which data produced the tables in ``results_dir`` (quoted by the README).

    ``num_groups`` (distinct ``gNN`` groups) and, for the embedded dataset, the version of the
    generator that rendered it (:data:`helpers.synthetic.GENERATOR_VERSION`) are recorded when
    given, so the README can say when its tables predate the current embedded dataset.
    """
    record = {
        "dataset": "embedded (procedural, UCF50 layout)" if embedded else Path(dataset_dir).name,
        "dataset_dir": str(dataset_dir), "embedded": embedded, "num_classes": len(class_names),
        "class_names": list(class_names), "num_clips": int(num_clips), "num_frames": num_frames,
        "image_size": image_size,
    }
    if num_groups is not None:
        record["num_groups"] = int(num_groups)
    if generator_version is not None:
        record["generator_version"] = int(generator_version)
    return write_json(Path(results_dir) / "dataset.json", record)
