"""Seed spread (``make seeds``): the headline models retrained over several seeds -> ``results/seeds.csv``.

The LRCN on the ``group`` and the ``random_clip`` protocol (notebook 01), the ConvLSTM on ``group``
(notebook 02) and paper 000's CNN, RNN and hybrid on ``group`` (notebook 03), each trained once per
seed in ``HAR_SEEDS`` (default ``27,28,29,30,31``) through :func:`helpers.experiment.run_experiment`;
one row ``model, protocol, seed, accuracy, loss, seconds, settings`` per run (held-out clips,
``model.evaluate``; ``seconds`` = its training time, measured). The seed changes the initial weights
and the order of the training batches only: the data and the split stay those of the notebooks
(seed 27), so seed 27's row is the notebook's own number and the spread is the training's alone.
Five-vs-five, these rows decide the leak (LRCN ``random_clip`` vs ``group``) and LRCN vs ConvLSTM
beside the notebooks' single-seed McNemar rows (``scripts/readme.py``, Welch's t-test).

Where the settings come from: the notebooks' own import, `parameters` and config cells (the code cell that
starts with ``# DATA``) are executed here, so the notebook is the one place the hyperparameters
are written and a change there reaches this script without a second copy. (The alternative, a
settings module both read, would take the constants out of the notebooks' config cells, which
house style wants on screen.) The models are the notebooks' ``#@save`` builders, imported from
``helpers.paper_models``. The config cell's ``SETTINGS_HASH`` (:func:`helpers.stats.settings_hash`) goes
into every row.

The saved models' cards (``results/models/<model>.md``, :mod:`helpers.cards`) get the spread at the end.

Resumable: a (model, protocol, seed) already in ``seeds.csv`` with the current settings is skipped,
and each finished run is written at once (atomically), so an interrupted ``make seeds`` continues
where it stopped. A row made with other settings is not skipped: the first new row of its (model,
protocol) replaces every row of it with other settings, so runs of two settings never mix.
``HAR_QUICK=1`` runs the quick profile into ``results/quick/seeds.csv``.

    python -m scripts.seeds [--seeds 27,28] [--models lrcn,cnn] [--protocols group]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import pandas as pd

if __package__ in (None, ""):  # run as `python scripts/seeds.py`: the checkout's `scripts` is importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers.cards import refresh_seed_spread  # noqa: E402
from helpers.config import PROJECT_ROOT, setup  # noqa: E402
from helpers.experiment import load_clips, run_experiment  # noqa: E402
from helpers.paper_models import build_cnn, build_convlstm, build_hybrid, build_lrcn, build_rnn  # noqa: E402
from helpers.papers import paper000_metrics  # noqa: E402
from helpers.results import update_table  # noqa: E402
from helpers.splits import protocol_split  # noqa: E402
from scripts.notebook_source import notebook_config  # noqa: E402  (the one reader of notebooks' cells)

SEEDS_ENV = "HAR_SEEDS"
DEFAULT_SEEDS = (27, 28, 29, 30, 31)
SEEDS_COLUMNS = ["model", "protocol", "seed", "accuracy", "loss", "seconds", "settings"]
#: model -> the notebook whose settings train it.
MODEL_NOTEBOOKS = {"lrcn": "01_lrcn", "convlstm": "02_convlstm", "cnn": "03_cnn_rnn_hybrid",
                   "rnn": "03_cnn_rnn_hybrid", "hybrid": "03_cnn_rnn_hybrid"}
#: Every (model, protocol) ``make seeds`` trains.
RUNS = (("lrcn", "group"), ("lrcn", "random_clip"), ("convlstm", "group"), ("cnn", "group"), ("rnn", "group"),
        ("hybrid", "group"))
PROTOCOLS = tuple(sorted({protocol for _, protocol in RUNS}))


def parse_seeds(text: str | None) -> list[int]:
    """``"27,28"`` -> ``[27, 28]``; empty or None -> :data:`DEFAULT_SEEDS`."""
    return [int(s) for s in text.split(",") if s.strip()] if text and text.strip() else list(DEFAULT_SEEDS)


def experiments(config: dict, *, root: Path, runs: Sequence[tuple[str, str]]
                ) -> dict[tuple[str, str], Callable[[int], dict]]:
    """(model, protocol) -> a function of the seed that trains it as its notebook does and returns its seeds.csv row."""
    plans: dict[tuple[str, str], Callable[[int], dict]] = {}
    for notebook in sorted({MODEL_NOTEBOOKS[m] for m, _ in runs}):
        cfg = config[notebook]
        paths = setup(seed=cfg["SEED"], root=root)
        # as the notebooks load them: notebook 03 takes every class folder, 01 and 02 the paper's classes on UCF50
        extra = {"prefer_classes": None} if notebook == "03_cnn_rnn_hybrid" else {}
        data = load_clips(paths, class_names=cfg["CLASSES"], num_frames=cfg["NUM_FRAMES"], image_size=cfg["IMAGE_SIZE"],
                          seed=cfg["SEED"], quick=cfg["QUICK"], **extra)
        common = {"num_classes": len(data.class_names), "num_frames": cfg["NUM_FRAMES"],
                  "image_size": cfg["IMAGE_SIZE"]}
        if notebook == "01_lrcn":
            builders = {"lrcn": (partial(build_lrcn, **common), {"augment": cfg["AUGMENT"]})}
        elif notebook == "02_convlstm":
            builders = {"convlstm": (partial(build_convlstm, **common), {"augment": cfg["AUGMENT"]})}
        else:
            common["class_names"] = data.class_names
            training = {"optimizer": cfg["OPTIMIZERS"][cfg["OPTIMIZER"]]}
            builders = {"cnn": (partial(build_cnn, **common), training),
                        "rnn": (partial(build_rnn, **common), training),
                        "hybrid": (partial(build_hybrid, alpha=cfg["ALPHA"], **common), training)}
        # notebook 03 compiles with paper 000's metrics (fresh metric objects for every model)
        metrics = paper000_metrics if notebook == "03_cnn_rnn_hybrid" else None
        for protocol in sorted({p for m, p in runs if MODEL_NOTEBOOKS[m] == notebook}):
            # as notebooks 01 and 02 split for each protocol (FOLD and the dataset only matter for logo/official)
            split = protocol_split(data.video_files_paths, protocol=protocol, test_size=cfg["TEST_SIZE"],
                                   val_size=cfg["VAL_SIZE"], seed=cfg["SEED"], fold=cfg.get("FOLD", 1),
                                   dataset_dir=data.dataset_dir)
            fit = partial(run_experiment, features=data.features, labels=data.labels, split=split,
                          class_names=data.class_names, epochs=cfg["EPOCHS"], batch_size=cfg["BATCH_SIZE"],
                          patience=cfg["PATIENCE"], verbose=0)
            for name, (build, options) in builders.items():
                if (name, protocol) in runs:
                    plans[name, protocol] = partial(_run, name=name, protocol=protocol, fit=fit, build=build,
                                                    options=options, metrics=metrics, settings=cfg["SETTINGS_HASH"])
    return plans


def _run(seed: int, *, name: str, protocol: str, fit: Callable, build: Callable, options: dict,
         metrics: Callable | None, settings: str) -> dict:
    start = time.perf_counter()
    run = fit(build, seed=seed, **options, **({"metrics": metrics()} if metrics else {}))
    return {"model": name, "protocol": protocol, "seed": seed, "accuracy": run.evaluation.accuracy,
            "loss": run.evaluation.loss, "seconds": time.perf_counter() - start, "settings": settings}


def _seeds_columns(table: pd.DataFrame) -> pd.DataFrame:
    """:data:`SEEDS_COLUMNS`; rows from before ``protocol`` existed were ``group`` runs."""
    if "protocol" not in table.columns:
        table = table.assign(protocol="group")
    return table.reindex(columns=SEEDS_COLUMNS)


def read_seeds(path: Path) -> pd.DataFrame:
    """``seeds.csv`` with :data:`SEEDS_COLUMNS` (empty where there is none)."""
    return _seeds_columns(pd.read_csv(path, dtype={"settings": str}) if path.exists() else pd.DataFrame())


def write_row(path: Path, row: dict) -> pd.DataFrame:
    """Add ``row``, replacing its (model, protocol, seed) and every row of its (model, protocol) made with other
    settings; atomic (:func:`helpers.results.update_table`). Returns the table."""
    def add(table: pd.DataFrame) -> pd.DataFrame:
        table = _seeds_columns(table)
        same_run = (table.model == row["model"]) & (table.protocol == row["protocol"])
        stale = same_run & ((table.seed == row["seed"]) | (table.settings.astype(str) != str(row["settings"])))
        table = pd.concat([table[~stale], pd.DataFrame([row])[SEEDS_COLUMNS]], ignore_index=True)
        return table.sort_values(["model", "protocol", "seed"], kind="stable").reset_index(drop=True)

    return update_table(path, add, columns=SEEDS_COLUMNS, dtype={"settings": str})


def main(argv: list[str] | None = None, *, root: Path = PROJECT_ROOT, notebooks: Path | None = None) -> list[dict]:
    """Train every (model, protocol, seed) not yet in ``seeds.csv`` with the current settings; returns the rows
    trained by this call.

    ``root`` holds ``data/`` and ``results/`` (a temporary folder in the tests); the settings are
    read from ``notebooks`` (default: the repository's).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default=os.environ.get(SEEDS_ENV), help=f"default ${SEEDS_ENV} or 27,...,31")
    parser.add_argument("--models", default=",".join(MODEL_NOTEBOOKS), help="comma-separated subset")
    parser.add_argument("--protocols", default=",".join(PROTOCOLS), help="comma-separated subset")
    args = parser.parse_args(argv)
    seeds, models = parse_seeds(args.seeds), [m for m in args.models.split(",") if m]
    protocols = [p for p in args.protocols.split(",") if p]
    unknown = sorted(set(models) - set(MODEL_NOTEBOOKS))
    if unknown:
        parser.error(f"unknown models {unknown}; choose from {list(MODEL_NOTEBOOKS)}")
    if sorted(set(protocols) - set(PROTOCOLS)):
        parser.error(f"unknown protocols {sorted(set(protocols) - set(PROTOCOLS))}; choose from {list(PROTOCOLS)}")
    runs = [(m, p) for m, p in RUNS if m in models and p in protocols]
    notebooks = PROJECT_ROOT / "notebooks" if notebooks is None else Path(notebooks)
    config = {nb: notebook_config(notebooks / f"{nb}.ipynb") for nb in sorted({MODEL_NOTEBOOKS[m] for m, _ in runs})}
    out = setup(root=root).results_dir / "seeds.csv"
    table = read_seeds(out)
    current = {(m, p): config[MODEL_NOTEBOOKS[m]]["SETTINGS_HASH"] for m, p in runs}
    done = {(m, p, int(s)) for m, p, s, h in table[["model", "protocol", "seed", "settings"]].itertuples(index=False)
            if current.get((m, p)) == str(h)}
    todo = [(m, p, s) for m, p in runs for s in seeds if (m, p, s) not in done]
    print(f"{out}: {len(todo)} runs to do, {len(runs) * len(seeds) - len(todo)} already there with these settings")
    if not todo:
        refresh_cards(out, models=models)
        return []
    plans = experiments(config, root=root, runs=sorted({(m, p) for m, p, _ in todo}))
    trained = []
    for name, protocol, seed in todo:
        row = plans[name, protocol](seed)
        write_row(out, row)  # atomic, at once
        trained.append(row)
        print(f"{name} ({protocol}) seed {seed}: accuracy {row['accuracy']:.4f}, loss {row['loss']:.4f}, "
              f"{row['seconds']:.0f} s", flush=True)
    refresh_cards(out, models=models)
    return trained


def refresh_cards(seeds_csv: Path, *, models: Sequence[str]) -> None:
    """The seed spread into the cards of the notebooks' saved models (``results/models/<model>.keras``), which
    were written before these seeds ran (:func:`helpers.cards.refresh_seed_spread`)."""
    for name in models:
        if refresh_seed_spread(seeds_csv.parent / "models" / f"{name}.keras", seeds_csv) is not None:
            print(f"{name}: seed spread written into its model card", flush=True)


if __name__ == "__main__":
    main()
