"""Seed spread (``make seeds``): the headline models retrained over several seeds -> ``results/seeds.csv``.

The LRCN on the ``group`` protocol (notebook 01) and paper 000's CNN, RNN and hybrid (notebook 03),
each trained once per seed in ``HAR_SEEDS`` (default ``27,28,29,30,31``) through
:func:`helpers.experiment.run_experiment`; one row ``model, seed, accuracy, loss`` per run
(held-out groups, ``model.evaluate``). The seed changes the initial weights and the order of
the training batches only: the data and the split stay those of the notebooks (seed 27), so
seed 27's row is the notebook's own number and the spread is the training's alone.

Where the settings come from: the notebooks' own import, `parameters` and config cells (the code cell that
starts with ``# DATA``) are executed here, so the notebook is the one place the hyperparameters
are written and a change there reaches this script without a second copy. (The alternative, a
settings module both read, would take the constants out of the notebooks' config cells, which
house style wants on screen.) The models are the notebooks' ``#@save`` builders, imported from
``helpers.models``.

Resumable: a (model, seed) already in ``seeds.csv`` is skipped, and each finished run is
written at once (atomically), so an interrupted ``make seeds`` continues where it stopped.
``HAR_QUICK=1`` runs the quick profile into ``results/quick/seeds.csv``. The ConvLSTM is left
out: five seeds of it take about 48 minutes on 2 cores, more than the rest together.

    python scripts/seeds.py [--seeds 27,28] [--models lrcn,cnn]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import pandas as pd

from helpers.config import PROJECT_ROOT, setup
from helpers.experiment import load_clips, run_experiment
from helpers.models import build_cnn, build_hybrid, build_lrcn, build_rnn
from helpers.papers import paper000_metrics
from helpers.results import upsert_rows
from helpers.splits import protocol_split

SEEDS_ENV = "HAR_SEEDS"
DEFAULT_SEEDS = (27, 28, 29, 30, 31)
SEEDS_COLUMNS = ["model", "seed", "accuracy", "loss"]
#: model -> the notebook whose settings train it.
MODEL_NOTEBOOKS = {"lrcn": "01_lrcn", "cnn": "03_cnn_rnn_hybrid", "rnn": "03_cnn_rnn_hybrid",
                   "hybrid": "03_cnn_rnn_hybrid"}


def notebook_config(notebook: Path) -> dict:
    """Run ``notebook``'s import cell, its ``parameters`` cell and its config cell (the code cell starting with
    ``# DATA``), as papermill would with no override; return their UPPER_CASE names."""
    cells = [c for c in json.loads(notebook.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]
    sources = ["".join(c["source"]) for c in cells]
    parameters = [source for cell, source in zip(cells, sources, strict=True)
                  if "parameters" in cell.get("metadata", {}).get("tags", [])]
    config = next((s for s in sources if s.startswith("# DATA")), None)
    if config is None or len(parameters) != 1:
        raise ValueError(f"{notebook}: needs one cell tagged 'parameters' and a config cell (starting with '# DATA')")
    namespace: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):  # a config cell may print the profile
        for name, source in (("imports", sources[0]), ("parameters", parameters[0]), ("config", config)):
            exec(compile(source, f"{notebook.name}:{name}", "exec"), namespace)
    return {name: value for name, value in namespace.items() if name.isupper()}


def parse_seeds(text: str | None) -> list[int]:
    """``"27,28"`` -> ``[27, 28]``; empty or None -> :data:`DEFAULT_SEEDS`."""
    return [int(s) for s in text.split(",") if s.strip()] if text and text.strip() else list(DEFAULT_SEEDS)


def experiments(config: dict, *, root: Path, models: Sequence[str]) -> dict[str, Callable[[int], dict]]:
    """model -> a function of the seed that trains it as its notebook does and returns its seeds.csv row."""
    plans: dict[str, Callable[[int], dict]] = {}
    for notebook in sorted({MODEL_NOTEBOOKS[m] for m in models}):
        cfg = config[notebook]
        paths = setup(seed=cfg["SEED"], root=root)
        # as the notebooks load them: notebook 03 takes every class folder, 01 the paper's classes on UCF50
        extra = {"prefer_classes": None} if notebook == "03_cnn_rnn_hybrid" else {}
        data = load_clips(paths, class_names=cfg["CLASSES"], num_frames=cfg["NUM_FRAMES"], image_size=cfg["IMAGE_SIZE"],
                          seed=cfg["SEED"], quick=cfg["QUICK"], **extra)
        split = protocol_split(data.video_files_paths, protocol="group", test_size=cfg["TEST_SIZE"],
                               val_size=cfg["VAL_SIZE"], seed=cfg["SEED"])
        common = {"num_classes": len(data.class_names), "num_frames": cfg["NUM_FRAMES"],
                  "image_size": cfg["IMAGE_SIZE"]}
        fit = partial(run_experiment, features=data.features, labels=data.labels, split=split,
                      class_names=data.class_names, epochs=cfg["EPOCHS"], batch_size=cfg["BATCH_SIZE"],
                      patience=cfg["PATIENCE"], verbose=0)
        if notebook == "01_lrcn":
            builders = {"lrcn": (partial(build_lrcn, **common), {"augment": cfg["AUGMENT"]})}
        else:
            common["class_names"] = data.class_names
            training = {"optimizer": cfg["OPTIMIZERS"][cfg["OPTIMIZER"]]}
            builders = {"cnn": (partial(build_cnn, **common), training),
                        "rnn": (partial(build_rnn, **common), training),
                        "hybrid": (partial(build_hybrid, alpha=cfg["ALPHA"], **common), training)}
        # notebook 03 compiles with paper 000's metrics (fresh metric objects for every model)
        metrics = paper000_metrics if notebook == "03_cnn_rnn_hybrid" else None
        for name, (build, options) in builders.items():
            if name in models:
                plans[name] = partial(_run, name=name, fit=fit, build=build, options=options, metrics=metrics)
    return plans


def _run(seed: int, *, name: str, fit: Callable, build: Callable, options: dict, metrics: Callable | None) -> dict:
    run = fit(build, seed=seed, **options, **({"metrics": metrics()} if metrics else {}))
    return {"model": name, "seed": seed, "accuracy": run.evaluation.accuracy, "loss": run.evaluation.loss}


def main(argv: list[str] | None = None, *, root: Path = PROJECT_ROOT, notebooks: Path | None = None) -> list[dict]:
    """Train every (model, seed) not yet in ``seeds.csv``; returns the rows trained by this call.

    ``root`` holds ``data/`` and ``results/`` (a temporary folder in the tests); the settings are
    read from ``notebooks`` (default: the repository's).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default=os.environ.get(SEEDS_ENV), help=f"default ${SEEDS_ENV} or 27,...,31")
    parser.add_argument("--models", default=",".join(MODEL_NOTEBOOKS), help="comma-separated subset")
    args = parser.parse_args(argv)
    seeds, models = parse_seeds(args.seeds), [m for m in args.models.split(",") if m]
    unknown = sorted(set(models) - set(MODEL_NOTEBOOKS))
    if unknown:
        parser.error(f"unknown models {unknown}; choose from {list(MODEL_NOTEBOOKS)}")
    notebooks = PROJECT_ROOT / "notebooks" if notebooks is None else Path(notebooks)
    config = {nb: notebook_config(notebooks / f"{nb}.ipynb") for nb in set(MODEL_NOTEBOOKS.values())}
    out = setup(root=root).results_dir / "seeds.csv"
    done = set()
    if out.exists():
        done = {(m, int(s)) for m, s in pd.read_csv(out)[["model", "seed"]].itertuples(index=False)}
    todo = [(m, s) for m in models for s in seeds if (m, s) not in done]
    print(f"{out}: {len(todo)} runs to do, {len(models) * len(seeds) - len(todo)} already there")
    if not todo:
        return []
    plans = experiments(config, root=root, models=sorted({m for m, _ in todo}))
    trained = []
    for name, seed in todo:
        row = plans[name](seed)
        upsert_rows(out, pd.DataFrame([row]), key=["model", "seed"], columns=SEEDS_COLUMNS)  # atomic, at once
        trained.append(row)
        print(f"{name} seed {seed}: accuracy {row['accuracy']:.4f}, loss {row['loss']:.4f}", flush=True)
    return trained


if __name__ == "__main__":
    main()
