"""One place for seeds, the quick profile and the project's folders.

The quick profile is switched on with the environment variable ``HAR_QUICK=1``
(``make test`` sets it). Notebooks read it through :func:`is_quick` so CI runs the
*same* code path on less data and fewer epochs.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

QUICK_ENV = "HAR_QUICK"
SEED = 27  # the seed of the original tutorial code (paper 001)
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def is_quick() -> bool:
    """True when the quick (CI) profile is on: ``HAR_QUICK`` set to 1/true/yes."""
    return os.environ.get(QUICK_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def set_seed(seed: int = SEED) -> None:
    """Seed Python, NumPy and (if imported) Keras/TensorFlow in one call."""
    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    try:
        import keras

        keras.utils.set_random_seed(seed)
    except ImportError:  # keras is optional for the data-only helpers
        pass


@dataclass(frozen=True)
class Paths:
    """Folders a notebook reads from and writes to."""

    data_dir: Path
    dataset_dir: Path
    embedded: bool  # True when dataset_dir is the embedded (generated) dataset
    cache_dir: Path
    results_dir: Path
    figures_dir: Path
    models_dir: Path


def project_paths(*, root: Path | str = PROJECT_ROOT, quick: bool | None = None) -> Paths:
    """The default folders; the quick profile writes to ``results/quick`` so it never
    overwrites the full run's results.

    ``HAR_DATASET_DIR`` points every notebook at another dataset (e.g. real UCF50).
    """
    root = Path(root)
    quick = is_quick() if quick is None else quick
    data_dir = root / "data"
    default_dataset = data_dir / ("embedded_quick" if quick else "embedded")
    custom = os.environ.get("HAR_DATASET_DIR")
    results_dir = root / "results" / "quick" if quick else root / "results"
    return Paths(
        data_dir=data_dir,
        dataset_dir=Path(custom) if custom else default_dataset,
        embedded=not custom,
        cache_dir=data_dir / "cache",
        results_dir=results_dir,
        figures_dir=results_dir / "figures",
        models_dir=results_dir / "models",
    )


def setup(*, seed: int = SEED, root: Path | str = PROJECT_ROOT) -> Paths:
    """Seed everything and create the output folders; call once at the top of a notebook."""
    set_seed(seed)
    paths = project_paths(root=root)
    for folder in (paths.data_dir, paths.cache_dir, paths.results_dir, paths.figures_dir, paths.models_dir):
        folder.mkdir(parents=True, exist_ok=True)
    return paths
