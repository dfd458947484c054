"""helpers.logs: TensorFlow's native log lines hidden by ``import helpers``, Python's stderr untouched."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_importing_helpers_first_hides_tensorflow_native_logs():
    """`import helpers` before TensorFlow: no absl/oneDNN/cuInit lines on stderr; Python's stderr still works."""
    script = ("import helpers, sys; import keras, tensorflow as tf; tf.config.list_physical_devices('GPU'); "
              "keras.layers.Dense(2)(tf.zeros((1, 3))); print('python stderr', file=sys.stderr)")
    env = {k: v for k, v in os.environ.items() if k not in {"TF_CPP_MIN_LOG_LEVEL", "HAR_TF_LOGS"}}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "python stderr", done.stderr


def test_quiet_native_stderr_silences_fd_2_only():
    """C-level writes to fd 2 vanish inside the block; Python's sys.stderr keeps writing to the real stderr."""
    script = ("import os, sys; from helpers.logs import quiet_native_stderr\n"
              "with quiet_native_stderr():\n    os.write(2, b'native\\n'); print('python', file=sys.stderr)\n"
              "os.write(2, b'after\\n')")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.split() == ["python", "after"]
