"""One place for seeds, the quick profile, the project's folders and TensorFlow's log level.

The quick profile is switched on with the environment variable ``HAR_QUICK=1``
(``make test`` sets it) or by a notebook's config cell (``QUICK = True``), which passes it
to :func:`setup`: both give the same folders (``results/quick``, ``data/embedded_quick``),
so CI runs the *same* code path on less data and fewer epochs and never writes into the
full run's folders.

Folders live under :func:`project_root`: ``HAR_HOME`` if set, else the source checkout
that holds ``helpers/`` (a folder with ``pyproject.toml`` and ``notebooks/``), else the
working directory (a ``pip install`` without ``-e``: never inside site-packages).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

QUICK_ENV = "HAR_QUICK"
HOME_ENV = "HAR_HOME"
TF_LOGS_ENV = "HAR_TF_LOGS"
CWD_ENV = "HAR_CWD"  # the folder a command was started in (the Makefile exports it): relative paths mean that
SEED = 27  # the seed of the original tutorial code (paper 001)


def user_path(path: str | os.PathLike) -> Path:
    """A path as the user typed it: ``~`` expanded, a relative path taken from the folder the command was
    started in (``$HAR_CWD``, which ``make`` exports, else the working directory), not from where a notebook
    kernel runs (``make run`` runs it in ``notebooks/``)."""
    path = Path(path).expanduser()
    if path.is_absolute():
        return path
    return Path(os.environ.get(CWD_ENV, "").strip() or os.getcwd()).expanduser() / path


def project_root() -> Path:
    """The folder that holds ``data/`` and ``results/``: ``$HAR_HOME``, else the source checkout
    ``helpers/`` was imported from, else the working directory."""
    home = os.environ.get(HOME_ENV, "").strip()
    if home:
        return user_path(home).resolve()
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "notebooks").is_dir():
        return checkout
    return Path.cwd().resolve()  # installed into site-packages: the user's folder, not the package's


PROJECT_ROOT = project_root()


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
    quick: bool = False  # the quick profile's folders (and its small embedded dataset)


def dataset_key(dataset_dir: str | os.PathLike) -> str:
    """``<folder name>-<6 hex digits of its absolute path>``: names a dataset's results folder, so two
    datasets never share a table, even two folders both called ``videos``."""
    path = user_path(dataset_dir).resolve()
    return f"{path.name or 'dataset'}-{hashlib.sha256(str(path).encode()).hexdigest()[:6]}"


def project_paths(*, root: Path | str | None = None, quick: bool | None = None,
                  dataset_dir: str | os.PathLike | None = None) -> Paths:
    """The default folders; the quick profile writes to ``results/quick`` so it never
    overwrites the full run's results.

    ``root`` defaults to :func:`project_root`, ``quick`` to :func:`is_quick`, ``dataset_dir`` (a notebook's
    ``DATASET_DIR`` parameter) to ``$HAR_DATASET_DIR``. ``HAR_DATASET_DIR`` points every notebook at
    another dataset (e.g. real UCF50; relative or ``~`` paths as in :func:`user_path`); its tables then go
    to ``results/<dataset_key>/`` (``results/quick/<dataset_key>/``), never into the embedded run's. The
    clip cache needs no such folder: its entries are keyed by a hash of the clips' paths and the sampling
    settings.
    """
    root = project_root() if root is None else Path(root)
    quick = is_quick() if quick is None else quick
    data_dir = root / "data"
    default_dataset = data_dir / ("embedded_quick" if quick else "embedded")
    custom = str(dataset_dir) if dataset_dir else os.environ.get("HAR_DATASET_DIR", "").strip()
    results_dir = root / "results" / "quick" if quick else root / "results"
    if custom:
        results_dir = results_dir / dataset_key(custom)
    return Paths(
        data_dir=data_dir,
        dataset_dir=user_path(custom) if custom else default_dataset,
        embedded=not custom,
        cache_dir=data_dir / "cache",
        results_dir=results_dir,
        figures_dir=results_dir / "figures",
        models_dir=results_dir / "models",
        quick=quick,
    )


def setup(*, seed: int = SEED, quick: bool | None = None, root: Path | str | None = None,
          dataset_dir: str | os.PathLike | None = None) -> Paths:
    """Seed everything and create the output folders; call once at the top of a notebook.

    Args:
        seed: Seed of Python, NumPy and Keras.
        quick: The notebook's ``QUICK``; None reads ``HAR_QUICK``. The choice is written back
            to ``HAR_QUICK`` so code started from the notebook (the CLI, worker processes) agrees.
        root: Folder of ``data/`` and ``results/``; None: :func:`project_root`.
        dataset_dir: The notebook's ``DATASET_DIR``; None reads ``HAR_DATASET_DIR`` (else the embedded
            dataset). A folder given here is written back to ``HAR_DATASET_DIR``, as ``quick`` is.
    """
    set_seed(seed)
    quick = is_quick() if quick is None else bool(quick)
    os.environ[QUICK_ENV] = "1" if quick else "0"
    if dataset_dir:
        os.environ["HAR_DATASET_DIR"] = str(user_path(dataset_dir))
    paths = project_paths(root=root, quick=quick)
    for folder in (paths.data_dir, paths.cache_dir, paths.results_dir, paths.figures_dir, paths.models_dir):
        folder.mkdir(parents=True, exist_ok=True)
    return paths


def printable(text: str) -> str:
    """``text`` with control and other non-printable characters escaped: a class or file name cannot forge output."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in str(text))


def error_line(err: BaseException) -> str:
    """A failure as the one line the CLI prints after ``error:`` (and the demo page shows)."""
    return printable(" ".join(str(err).split())) or type(err).__name__


@contextlib.contextmanager
def quiet_native_stderr(enabled: bool = True) -> Iterator[None]:
    """Send C-level writes to fd 2 (TensorFlow/absl start-up lines) to /dev/null while
    Python's ``sys.stderr`` (progress bars, warnings, error lines) keeps its destination."""
    if not enabled:
        yield
        return
    try:
        python_on_fd2 = sys.stderr.fileno() == 2
    except (AttributeError, OSError, io.UnsupportedOperation):  # Jupyter's or pytest's stream: not fd 2
        python_on_fd2 = False
    sys.stderr.flush()
    saved = os.dup(2)
    python_stderr = sys.stderr
    if python_on_fd2:
        sys.stderr = open(saved, "w", buffering=1, encoding=python_stderr.encoding or "utf-8",
                          errors="backslashreplace", closefd=False)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        if python_on_fd2:
            sys.stderr.close()
            sys.stderr = python_stderr
        os.close(saved)


def _keep_tf_logs() -> bool:
    return os.environ.get(TF_LOGS_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


class _QuietTensorFlowImport:
    """Import hook: TensorFlow's first import (and its device probe, where CPU-only machines log
    "failed call to cuInit") runs with fd 2 silenced; those lines come before absl reads
    ``TF_CPP_MIN_LOG_LEVEL``, so the variable alone cannot hide them."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow" or _keep_tf_logs():
            return None
        sys.meta_path.remove(self)  # once; find the real spec without this hook
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # its warnings and infos after start-up
        import importlib.util

        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def quiet_exec(module) -> None:
            with quiet_native_stderr():
                exec_module(module)
                with contextlib.suppress(Exception):  # a probe only: any failure shows again at first real use
                    module.config.list_physical_devices()  # where CPU-only machines log "failed call to cuInit"

        spec.loader.exec_module = quiet_exec
        return spec


def quiet_tensorflow_logs() -> None:
    """Hide TensorFlow's native log lines (absl's notice, oneDNN, cuInit on CPU machines) from
    notebooks and the CLI; ``HAR_TF_LOGS=1`` keeps them. Called by ``import helpers``, so it
    must run before TensorFlow's first import: a notebook's first import line is ``import helpers``.
    """
    if _keep_tf_logs() or "tensorflow" in sys.modules:
        return
    if not any(isinstance(hook, _QuietTensorFlowImport) for hook in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowImport())
