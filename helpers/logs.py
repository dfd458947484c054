"""What reaches the terminal: TensorFlow's native log lines hidden (the fd-2 redirection and the import hook),
and a failure or a name made one printable line (:func:`error_line`, :func:`printable`).

``import helpers`` installs the hook (:func:`quiet_tensorflow_logs`) before TensorFlow's first import;
``HAR_TF_LOGS=1`` keeps the lines. The command line runs with :func:`quiet_native_stderr` unless ``--verbose``.
Standard library only: the lowest module of the package.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator

TF_LOGS_ENV = "HAR_TF_LOGS"


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


def printable(text: str) -> str:
    """``text`` with control and other non-printable characters escaped: a class or file name cannot forge output."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in str(text))


def error_line(err: BaseException) -> str:
    """A failure as the one line the CLI prints after ``error:`` (and the demo page shows)."""
    return printable(" ".join(str(err).split())) or type(err).__name__
