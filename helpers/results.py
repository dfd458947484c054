"""Tables that notebooks write into the results folder (CSV + Markdown), atomically.

Numbers quoted in the README or in a notebook's prose come from these files, never
typed by hand.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from helpers.atomic import folder_lock, write_text


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
    """Write ``df`` to ``path`` (``.csv``) and beside it as ``.md``, and ``environment.json`` beside them
    (:func:`record_environment`); returns the CSV path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, df.to_csv(index=False))
    write_text(path.with_suffix(".md"), to_markdown(df, floatfmt=floatfmt))
    record_environment(path.parent)
    return path


#: Packages whose versions can move a number (``environment.json``).
ENVIRONMENT_PACKAGES = ("tensorflow", "keras", "numpy", "scipy", "statsmodels", "pandas", "opencv-python-headless",
                        "av", "ai-edge-litert")
#: Instruction-set families, best first: the first whose flag the CPU has names it (x86 ``/proc/cpuinfo`` flags,
#: ``asimd`` on ARM).
ISA_FAMILIES = (("amx_tile", "amx"), ("avx512f", "avx512"), ("avx2", "avx2"), ("avx", "avx"), ("sse4_2", "sse4.2"),
                ("asimd", "neon"))


@functools.cache  # one process, one machine: read /proc/cpuinfo and the versions once
def machine_environment() -> dict:
    """The CPU (model, instruction-set family and the flags that pick oneDNN's kernels) and the library versions:
    what a number can depend on beyond the code and the seed."""
    import platform
    from importlib import metadata

    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                model = value.strip()
            elif key.strip() in ("flags", "Features"):
                flags = set(value.split())
    except OSError:  # not Linux: platform's answer only
        pass
    versions = {}
    for name in ENVIRONMENT_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    family = next((family for flag, family in ISA_FAMILIES if flag in flags), "unknown")
    return {"cpu_model": model, "isa_family": family,
            "isa_flags": sorted(flags & {"avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "avx2", "fma", "asimd"}),
            "cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "tf_enable_onednn_opts": os.environ.get("TF_ENABLE_ONEDNN_OPTS"), "packages": versions}


def record_environment(results_dir: str | os.PathLike) -> Path:
    """Write ``environment.json`` (:func:`machine_environment`) into ``results_dir`` unless it already says the same."""
    import json

    path = Path(results_dir) / "environment.json"
    text = json.dumps(machine_environment(), indent=2) + "\n"
    if not path.exists() or path.read_text() != text:
        write_text(path, text)
    return path


def update_table(path: str | os.PathLike, update: Callable[[pd.DataFrame], pd.DataFrame], *,
                 columns: Sequence[str], dtype: Mapping[str, type] | None = None) -> pd.DataFrame:
    """Read the table at ``path`` (an empty one with ``columns`` where there is none), apply the pure ``update``
    to it, write what it returns (:func:`write_table`, atomic) and return that: the file side of a table that
    code elsewhere computes (e.g. :func:`helpers.stats.record_comparisons`). The read, update and write hold the
    folder's lock (:func:`helpers.atomic.folder_lock`): notebooks run side by side (``make run JOBS=2``) that fill
    one table (``comparisons.csv``, ``trained_models.csv``) take turns and lose no one's rows."""
    path = Path(path)
    with folder_lock(path.parent, waiting=f"note: waiting for another process writing in {path.parent}"):
        old = pd.read_csv(path, dtype=dtype) if path.exists() else pd.DataFrame(columns=list(columns))
        table = update(old)
        write_table(table, path)
    return table


def upsert_rows(path: str | os.PathLike, rows: pd.DataFrame, *, key: Sequence[str], columns: Sequence[str]
                ) -> pd.DataFrame:
    """Merge ``rows`` into the table at ``path``, replacing rows with the same ``key`` (:func:`update_table`).

    Lets several notebooks fill one table (e.g. 01 writes the LRCN rows of
    ``paper001.csv``, 02 the ConvLSTM rows). Returns the merged table.
    """
    missing = [c for c in columns if c not in rows.columns]
    if missing:
        raise ValueError(f"rows lack columns {missing}")
    rows = rows[list(columns)]

    def merge(old: pd.DataFrame) -> pd.DataFrame:
        keys = set(map(tuple, rows[list(key)].astype(str).values))
        keep = [k not in keys for k in map(tuple, old[list(key)].astype(str).values)]
        merged = pd.concat([old.loc[keep, list(columns)], rows], ignore_index=True) if len(old) else rows
        return merged.sort_values(list(key), kind="stable").reset_index(drop=True)

    return update_table(path, merge, columns=columns)


def record_protocol_runs(results_dir: str | os.PathLike, *, model_name: str, notebook: str,
                         evaluations: Mapping[str, Mapping[str, float]], columns: Sequence[str],
                         budget: Mapping[str, object]) -> pd.DataFrame:
    """The bookkeeping of a notebook that trains one model under several split protocols (01, 02).

    Writes one row per protocol into ``paper001.csv`` (``model, protocol`` then ``columns``' other
    names, read from ``evaluations``) and the saved model's budget into ``trained_models.csv`` (for
    notebook 05, which loads the model instead of training it again).

    Args:
        results_dir: The results folder (``paths.results_dir``).
        model_name: The ``model`` column, e.g. ``"lrcn"``.
        notebook: The notebook that trained it, e.g. ``"01_lrcn"``.
        evaluations: protocol -> ``{"loss": ..., "accuracy": ..., "ms_per_step": ...}``.
        columns: ``paper001.csv``'s columns (``helpers.experiment.PAPER001_COLUMNS``).
        budget: The saved model's split and budget (protocol, sizes, seed, epochs, patience, batch
            size, epochs run, training seconds), in its ``trained_models.csv`` column order.

    Returns:
        The merged ``paper001.csv``.
    """
    results_dir = Path(results_dir)
    rows = pd.DataFrame([{"model": model_name, "protocol": protocol, **scores}
                         for protocol, scores in evaluations.items()])
    table = upsert_rows(results_dir / "paper001.csv", rows, key=["model", "protocol"], columns=columns)
    trained = pd.DataFrame([{"model": model_name, "notebook": notebook, **budget}])
    upsert_rows(results_dir / "trained_models.csv", trained, key=["model"], columns=list(trained.columns))
    return table


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
