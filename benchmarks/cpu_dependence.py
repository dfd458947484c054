"""Which layers and models give numbers that depend on the CPU, and which setting makes them identical (issue 24).

    python -m benchmarks.cpu_dependence [--out DIR] [--settings default_rerun,isa_avx2,...] [--steps 8] [--quick]

Every setting runs in a fresh process (oneDNN reads ``ONEDNN_MAX_CPU_ISA`` and TensorFlow reads
``TF_ENABLE_ONEDNN_OPTS`` and ``TF_NUM_INTRAOP_THREADS`` once, at import), on the same seeded inputs:

* per **layer** the project's models use, at the notebooks' shapes with 2 clips: the forward output and the
  gradients of a fixed random projection of it (a scalar) with respect to its weights and its input, in one
  ``tf.function`` as in training;
* per **model** (the builders of :mod:`helpers.paper_models`, notebook 05's 3D CNN and two-stream among them):
  ``--steps`` Adam steps (``train_on_batch``,
  the notebooks' compile and batch sizes) on fixed random clips, then the final weights; and the median wall and
  process CPU time of the steps after the first (which traces the graph): what a setting costs.

Each setting is compared bitwise with its reference (``np.array_equal``), with the largest absolute difference.
One machine emulates others: capping oneDNN's instruction set runs the kernels a CPU without AMX or AVX-512 would
run, and another intra-op thread count (TensorFlow's default is one per core) splits the sums as a CPU with
more or fewer cores would. ``default_rerun`` is the control (a
second process with nothing changed must match bit for bit, or no other row means anything). A setting that
claims to make runs identical across CPUs is compared with itself under the caps (``onednn_off_avx2`` against
``onednn_off``). Writes ``cpu_dependence.csv`` and ``.md`` (:func:`helpers.results.write_table`); ``make
readme SECTIONS=cpu_dependence`` turns them into the README section. The verbose header of oneDNN (its ``isa``
and thread count) is recorded per setting: the proof that a cap took effect.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.config import SEED

ROOT = Path(__file__).resolve().parent.parent

#: Setting -> (the environment it adds, the setting it is compared with). The ISA names are oneDNN's
#: (``ONEDNN_MAX_CPU_ISA``, CPU dispatcher control): AVX512_CORE_BF16 is AVX-512 with VNNI and BF16 but no AMX
#: (an AMD EPYC of the Zen 4 generation), AVX512_CORE plain AVX-512, AVX2 a CPU without AVX-512 (Zen 2/3 EPYCs).
SETTINGS: dict[str, tuple[dict[str, str], str]] = {
    "default": ({}, "default"),
    "default_rerun": ({}, "default"),
    "isa_avx512_bf16": ({"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_BF16"}, "default"),
    "isa_avx512_core": ({"ONEDNN_MAX_CPU_ISA": "AVX512_CORE"}, "default"),
    "isa_avx2": ({"ONEDNN_MAX_CPU_ISA": "AVX2"}, "default"),
    "threads_1": ({"TF_NUM_INTRAOP_THREADS": "1"}, "default"),
    "threads_4": ({"TF_NUM_INTRAOP_THREADS": "4"}, "default"),
    "threads_8": ({"TF_NUM_INTRAOP_THREADS": "8"}, "default"),
    "onednn_off": ({"TF_ENABLE_ONEDNN_OPTS": "0"}, "default"),
    "onednn_off_avx2": ({"TF_ENABLE_ONEDNN_OPTS": "0", "ONEDNN_MAX_CPU_ISA": "AVX2"}, "onednn_off"),
    "onednn_off_threads_8": ({"TF_ENABLE_ONEDNN_OPTS": "0", "TF_NUM_INTRAOP_THREADS": "8"}, "onednn_off"),
}
COLUMNS = ["component", "kind", "setting", "env", "reference", "identical", "max_abs_diff", "differs", "step_ms",
           "step_cpu_ms", "onednn_isa", "threads", "error"]
CLIPS = 2  # clips per layer input
NUM_CLASSES = 8  # the embedded dataset's classes


class CpuDependenceError(RuntimeError):
    """A worker process failed."""


# --- the comparison (pure: tested on synthetic arrays) ---

def compare_arrays(reference: Mapping[str, np.ndarray], other: Mapping[str, np.ndarray]) -> dict:
    """Bitwise comparison of two runs' arrays, name by name.

    Args:
        reference, other: Array name -> array; both must hold the same names and shapes.

    Returns:
        ``{"identical": bool, "max_abs_diff": float, "differs": [names]}``: identical only when every array is
        ``np.array_equal`` (NaNs in the same places count as equal); the largest absolute difference over all
        arrays (0.0 when identical).
    """
    if set(reference) != set(other):
        raise ValueError(f"the runs hold different arrays: {sorted(set(reference) ^ set(other))}")
    differs, largest = [], 0.0
    for name in reference:
        a, b = np.asarray(reference[name]), np.asarray(other[name])
        if a.shape != b.shape:
            raise ValueError(f"{name}: shapes differ, {a.shape} vs {b.shape}")
        if not np.array_equal(a, b, equal_nan=a.dtype.kind == "f"):
            differs.append(name)
            diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
            largest = max(largest, float(np.nanmax(diff)) if np.isfinite(diff).any() else float("inf"))
    return {"identical": not differs, "max_abs_diff": largest, "differs": differs}


def describe_differences(names: Sequence[str], total: int) -> str:
    """``"output, grad kernel"``; past four names, ``"7 of 9 arrays"``; ``""`` for none."""
    if not names:
        return ""
    return ", ".join(names) if len(names) <= 4 else f"{len(names)} of {total} arrays"


def compare_runs(runs: Mapping[str, Mapping[str, Mapping[str, np.ndarray]]], *, kinds: Mapping[str, str],
                 timings: Mapping[str, Mapping[str, Mapping[str, float]]], headers: Mapping[str, Mapping[str, str]],
                 errors: Mapping[str, Mapping[str, str]] | None = None,
                 settings: Mapping[str, tuple[dict, str]] = SETTINGS) -> pd.DataFrame:
    """The tidy table: one row per component and setting, compared with the setting's reference.

    Args:
        runs: setting -> component -> array name -> array (a component that failed is absent).
        kinds: component -> ``"layer"`` or ``"model"``.
        timings: setting -> model -> ``{"step_ms": wall ms, "step_cpu_ms": process CPU ms}`` per training step.
        headers: setting -> ``{"onednn_isa": ..., "threads": ...}`` (oneDNN's verbose header).
        errors: setting -> component -> the error it raised there.
        settings: :data:`SETTINGS` or a subset of it (references must be in ``runs``).

    Returns:
        A DataFrame with :data:`COLUMNS`. ``default`` appears compared with itself (its step time is what every
        setting's cost reads against). A component that failed under a setting or its reference is not
        identical, with no difference and the error named.
    """
    errors = errors or {}
    rows = []
    for setting in runs:
        reference = settings[setting][1]
        if reference not in runs:
            raise ValueError(f"setting {setting!r} needs its reference {reference!r} in the same run")
        for component in kinds:
            failed = errors.get(setting, {}).get(component) or errors.get(reference, {}).get(component)
            if failed:
                result = {"identical": False, "max_abs_diff": float("nan"), "differs": []}
            else:
                result = compare_arrays(runs[reference][component], runs[setting][component])
            rows.append({"component": component, "kind": kinds[component], "setting": setting,
                         "env": " ".join(f"{k}={v}" for k, v in settings[setting][0].items()),
                         "reference": reference, "identical": result["identical"],
                         "max_abs_diff": result["max_abs_diff"],
                         "differs": describe_differences(result["differs"], len(runs[setting].get(component, ()))),
                         **{key: timings.get(setting, {}).get(component, {}).get(key, float("nan"))
                            for key in ("step_ms", "step_cpu_ms")},
                         **headers.get(setting, {"onednn_isa": "", "threads": ""}),
                         "error": (f"{setting if errors.get(setting, {}).get(component) else reference}: {failed}"
                                   if failed else "")})
    return pd.DataFrame(rows, columns=COLUMNS)


# --- what one worker process computes ---

def _layer_cases(*, quick: bool) -> dict[str, tuple[Callable[[], object], list[tuple[int, ...]]]]:
    """Layer name -> (a factory of the layer, its input shapes): the layers of the builders, at the notebooks'
    shapes with :data:`CLIPS` clips of 20 frames (frames folded into the batch axis where the model folds them).
    ``quick`` halves the frames. Data-movement layers (Flatten, Reshape, Permute, Rescaling) are left out: they
    do no arithmetic that could round differently."""
    from keras import layers

    from helpers.layers import FusedConvLSTM2D, TemporalCentering, WeightedAverage, WeightedConcat

    t = 10 if quick else 20
    f = CLIPS * t  # frames folded into the batch axis

    def convlstm(cls, filters):
        return lambda: cls(filters, (3, 3), activation="tanh", recurrent_dropout=0.2, return_sequences=True)

    return {
        "Conv2D 3->16, 64x64 (LRCN conv1)": (lambda: layers.Conv2D(16, 3, padding="same", activation="relu"),
                                             [(f, 64, 64, 3)]),
        "Conv2D 16->32, 16x16 (LRCN conv2)": (lambda: layers.Conv2D(32, 3, padding="same", activation="relu"),
                                              [(f, 16, 16, 16)]),
        "Conv2D 3->8, 32x32 (CNN conv1)": (lambda: layers.Conv2D(8, 3, padding="same", activation="relu"),
                                           [(f, 32, 32, 3)]),
        "Conv2D 8->16, 16x16 (CNN conv2)": (lambda: layers.Conv2D(16, 3, padding="same", activation="relu"),
                                            [(f, 16, 16, 8)]),
        "Conv2D 38->16, 32x32 (two-stream motion conv1)": (
            lambda: layers.Conv2D(16, 3, padding="same", activation="relu"), [(CLIPS, 32, 32, 2 * (t - 1))]),
        "Conv3D 3->8, 64x64 (3D CNN conv1)": (lambda: layers.Conv3D(8, 3, padding="same", use_bias=False),
                                              [(CLIPS, t, 64, 64, 3)]),
        "Conv3D 8->16, 32x32 (3D CNN conv2)": (lambda: layers.Conv3D(16, 3, padding="same", use_bias=False),
                                               [(CLIPS, t, 32, 32, 8)]),
        "Dense 1024->32 relu (CNN frame features)": (lambda: layers.Dense(32, activation="relu"), [(f, 1024)]),
        "Dense 32->8 softmax (classifier)": (lambda: layers.Dense(8, activation="softmax"), [(CLIPS, 32)]),
        f"Dense {t * 256}->8 softmax (ConvLSTM classifier)": (lambda: layers.Dense(8, activation="softmax"),
                                                             [(CLIPS, t * 4 * 4 * 16)]),
        "LSTM 64->32 (LRCN)": (lambda: layers.LSTM(32), [(CLIPS, t, 64)]),
        "LSTM 768->32 (RNN)": (lambda: layers.LSTM(32), [(CLIPS, t, 768)]),
        "ConvLSTM2D 3->4, 64x64 (Keras)": (convlstm(layers.ConvLSTM2D, 4), [(CLIPS, t, 64, 64, 3)]),
        "ConvLSTM2D 3->4, 64x64 (FusedConvLSTM2D)": (convlstm(FusedConvLSTM2D, 4), [(CLIPS, t, 64, 64, 3)]),
        "ConvLSTM2D 8->14, 16x16 (Keras)": (convlstm(layers.ConvLSTM2D, 14), [(CLIPS, t, 16, 16, 8)]),
        "ConvLSTM2D 8->14, 16x16 (FusedConvLSTM2D)": (convlstm(FusedConvLSTM2D, 14), [(CLIPS, t, 16, 16, 8)]),
        "MaxPooling2D 4x4 (LRCN)": (lambda: layers.MaxPooling2D(4), [(f, 64, 64, 16)]),
        "MaxPooling3D 1x2x2 (ConvLSTM)": (lambda: layers.MaxPooling3D((1, 2, 2), padding="same"),
                                          [(CLIPS, t, 64, 64, 4)]),
        "MaxPooling3D 2x2x2 (3D CNN)": (lambda: layers.MaxPooling3D(2, padding="same"), [(CLIPS, t, 32, 32, 16)]),
        "Resizing area 64->32 (CNN)": (lambda: layers.Resizing(32, 32, interpolation="area"), [(f, 64, 64, 3)]),
        "Resizing area 64->16 (RNN)": (lambda: layers.Resizing(16, 16, interpolation="area"), [(f, 64, 64, 3)]),
        "TemporalCentering motion (RNN)": (lambda: TemporalCentering(absolute=True), [(CLIPS, t, 16, 16, 3)]),
        "LayerNormalization 768 (RNN)": (lambda: layers.LayerNormalization(), [(CLIPS, t, 768)]),
        "BatchNormalization training (3D CNN)": (lambda: layers.BatchNormalization(momentum=0.9),
                                                 [(CLIPS, t, 32, 32, 16)]),
        "ReLU (3D CNN)": (lambda: layers.ReLU(), [(CLIPS, t, 32, 32, 16)]),
        "GlobalAveragePooling1D (CNN)": (lambda: layers.GlobalAveragePooling1D(), [(CLIPS, t, 32)]),
        "GlobalAveragePooling3D (3D CNN)": (lambda: layers.GlobalAveragePooling3D(), [(CLIPS, t // 4, 8, 8, 64)]),
        "Dropout 0.25 training": (lambda: layers.Dropout(0.25, seed=SEED), [(f, 1024)]),
        "WeightedConcat 0.7 (hybrid)": (lambda: WeightedConcat(alpha=0.7), [(CLIPS, 32), (CLIPS, 32)]),
        "WeightedAverage 0.5 (two-stream)": (lambda: WeightedAverage(alpha=0.5), [(CLIPS, 8), (CLIPS, 8)]),
    }


#: Layers with no gradient with respect to their input (TensorFlow registers none for ``ResizeArea``; in the
#: models only the input clip lies before them).
NO_INPUT_GRADIENT = ("Resizing",)


def run_layer(factory: Callable[[], object], shapes: Sequence[tuple[int, ...]]) -> dict[str, np.ndarray]:
    """One layer's forward output and the gradients of ``sum(output * r)`` (``r`` a fixed random tensor) with
    respect to its weights and inputs, in training mode, traced once as in training.

    Args:
        factory: Builds the layer (called right after the seed is set).
        shapes: Its input shapes; inputs are seeded uniform floats in [0, 1).

    Returns:
        ``{"output": ..., "grad <weight>": ..., "grad input<i>": ...}``.
    """
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(SEED)
    rng = np.random.default_rng(SEED)
    inputs = [tf.constant(rng.random(shape, dtype=np.float32)) for shape in shapes]
    layer = factory()
    layer.build(shapes[0] if len(shapes) == 1 else list(shapes))
    weights = layer.trainable_weights
    input_gradient = type(layer).__name__ not in NO_INPUT_GRADIENT

    @tf.function(jit_compile=False)
    def forward_backward(xs):
        with tf.GradientTape() as tape:
            if input_gradient:
                tape.watch(xs)
            y = layer(xs[0] if len(xs) == 1 else xs, training=True)
            # a fixed projection (stateless Philox: the same numbers in every process)
            loss = tf.reduce_sum(y * tf.random.stateless_normal(tf.shape(y), seed=(SEED, 0)))
        sources = [*weights, *(xs if input_gradient else [])]
        return y, (tape.gradient(loss, sources) if sources else [])

    y, grads = forward_backward(inputs)
    names = [f"grad {w.path}" for w in weights]
    names += [f"grad input{i}" for i in range(len(inputs) if input_gradient else 0)]
    return {"output": y.numpy(), **{n: g.numpy() for n, g in zip(names, grads, strict=True) if g is not None}}


def model_builders() -> dict[str, Callable]:
    """Model name -> builder: :mod:`helpers.paper_models`' paper models and notebook 05's ``c3d`` and ``two_stream``."""
    from helpers.paper_models import (
        build_c3d,
        build_cnn,
        build_convlstm,
        build_hybrid,
        build_lrcn,
        build_rnn,
        build_two_stream,
    )

    return {"lrcn": build_lrcn, "convlstm": build_convlstm, "cnn": build_cnn, "rnn": build_rnn,
            "hybrid": build_hybrid, "c3d": build_c3d, "two_stream": build_two_stream}


#: The notebooks' training batch sizes: 01/02 use 4, 03/05 use 8.
BATCH_SIZES = {"lrcn": 4, "convlstm": 4, "cnn": 8, "rnn": 8, "hybrid": 8, "c3d": 8, "two_stream": 8}


def run_model(name: str, builder: Callable, *, steps: int, quick: bool) -> tuple[dict[str, np.ndarray], float]:
    """``steps`` Adam steps of a freshly seeded model on fixed random clips (the notebooks' compile).

    Returns:
        ``({"loss step <k>": ..., "<weight path>": ...}, {"step_ms": ..., "step_cpu_ms": ...})``: the median wall and
        process CPU ms of the steps after the first (CPU time is the steadier measure on a shared machine).
    """
    import keras

    from helpers.pipeline import compile_model

    num_frames, batch = (10, 2) if quick else (20, BATCH_SIZES[name])
    keras.utils.set_random_seed(SEED)
    rng = np.random.default_rng(SEED)
    model = builder(num_classes=NUM_CLASSES, num_frames=num_frames, image_size=64)
    compile_model(model, optimizer="adam", jit_compile=False)
    x = rng.integers(0, 256, (batch, num_frames, 64, 64, 3), dtype=np.uint8)
    if len(model.inputs) > 1:  # two-stream: the clip and its optical flow
        x = {"clip": x, "flow": rng.normal(0, 2, (batch, num_frames - 1, 64, 64, 2)).astype(np.float32)}
    y = np.eye(NUM_CLASSES, dtype=np.float32)[rng.integers(0, NUM_CLASSES, batch)]
    arrays, wall, cpu = {}, [], []
    for step in range(steps):
        start, start_cpu = time.perf_counter(), time.process_time()
        loss = model.train_on_batch(x, y, return_dict=True)["loss"]
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        arrays[f"loss step {step + 1}"] = np.asarray(loss)
    arrays.update({w.path: np.asarray(w) for w in model.weights})
    return arrays, {"step_ms": 1e3 * statistics.median(wall[1:] or wall),
                    "step_cpu_ms": 1e3 * statistics.median(cpu[1:] or cpu)}


def error_line(error: BaseException) -> str:
    """One line for ``error``: a TensorFlow graph error's own message and the op it names (its first line only
    says "Graph execution error"), else the first line."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    node = next((m.group(1) for line in lines if (m := re.search(r"\[\[\{\{node ([^}]+)\}\}\]\]", line))), None)
    if node:
        message = next((line for line in reversed(lines) if not line.startswith(("[[", "File ", "Detected at"))), "")
        return f"{type(error).__name__}: {message} (op {node.rsplit('/', 1)[-1]})"[:200]
    return f"{type(error).__name__}: {lines[0] if lines else ''}"[:200]


def worker(out: Path, *, steps: int, quick: bool, layers_only: Sequence[str] | None = None,
           models_only: Sequence[str] | None = None) -> None:
    """Compute every layer and model case in this process and save them to ``out`` (``.npz`` + ``.json``)."""
    cases = _layer_cases(quick=quick)
    builders = model_builders() if models_only is None or models_only else {}
    arrays, meta = {}, {"kinds": {}, "timings": {}, "errors": {}}
    jobs = [(name, "layer", lambda factory=factory, shapes=shapes: (run_layer(factory, shapes), None))
            for name, (factory, shapes) in cases.items() if layers_only is None or name in layers_only]
    jobs += [(name, "model", lambda name=name, builder=builder: run_model(name, builder, steps=steps, quick=quick))
             for name, builder in builders.items() if models_only is None or name in models_only]
    for name, kind, job in jobs:
        meta["kinds"][name] = kind
        try:
            result, timing = job()
        except Exception as error:  # noqa: BLE001  (a setting that breaks a layer is a finding, not a crash)
            meta["errors"][name] = error_line(error)
            continue
        arrays.update({f"{name}\t{key}": value for key, value in result.items()})
        if timing is not None:
            meta["timings"][name] = timing
    np.savez(out.with_suffix(".npz"), **arrays)
    out.with_suffix(".json").write_text(json.dumps(meta))


# --- the parent: one worker per setting ---

_ISA = re.compile(r"onednn_verbose,.*?,info,cpu,isa:(.*)")
_THREADS = re.compile(r"onednn_verbose,.*?,info,cpu,runtime:\w+,nthr:(\d+)")


def onednn_header(stdout: str) -> dict[str, str]:
    """oneDNN's verbose header (``isa:``, ``nthr:``) from a worker's output; empty where oneDNN made no
    primitive (its ops off)."""
    isa, threads = _ISA.search(stdout), _THREADS.search(stdout)
    return {"onednn_isa": isa.group(1).strip() if isa else "", "threads": threads.group(1) if threads else ""}


def run_setting(setting: str, work: Path, *, steps: int, quick: bool, layers_only: Sequence[str] | None = None,
                models_only: Sequence[str] | None = None, timeout: float = 1800) -> tuple[dict, dict, dict]:
    """Run the worker in a fresh process with ``setting``'s environment.

    Returns:
        ``(component -> array name -> array, the worker's meta, oneDNN's header)``.
    """
    env = {k: v for k, v in os.environ.items()
           if k not in ("ONEDNN_MAX_CPU_ISA", "TF_ENABLE_ONEDNN_OPTS", "TF_NUM_INTRAOP_THREADS")}
    env.update(SETTINGS[setting][0], PYTHONPATH=str(ROOT), ONEDNN_VERBOSE="profile_create")
    out = work / setting
    command = [sys.executable, "-m", "benchmarks.cpu_dependence", "--worker", str(out), "--steps", str(steps),
               *(["--quick"] if quick else [])]
    if layers_only is not None:
        command += ["--layers", "\n".join(layers_only)]
    if models_only is not None:
        command += ["--models", ",".join(models_only)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=timeout)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise CpuDependenceError(f"setting {setting}: worker exited {done.returncode}: {tail[0]}")
    runs: dict[str, dict[str, np.ndarray]] = {}
    with np.load(out.with_suffix(".npz")) as saved:
        for key in saved.files:
            component, name = key.split("\t", 1)
            runs.setdefault(component, {})[name] = saved[key]
    return runs, json.loads(out.with_suffix(".json").read_text()), onednn_header(done.stdout)


def measure(settings: Sequence[str], *, steps: int, quick: bool, layers_only: Sequence[str] | None = None,
            models_only: Sequence[str] | None = None, progress: bool = True) -> pd.DataFrame:
    """Run ``settings`` (their references added, ``default`` first) and return :func:`compare_runs`' table."""
    wanted = ["default"]
    for setting in settings:
        for name in (SETTINGS[setting][1], setting):
            if name not in wanted:
                wanted.append(name)
    runs, timings, headers, kinds, errors = {}, {}, {}, {}, {}
    with tempfile.TemporaryDirectory(prefix="cpu_dependence_") as work:
        for setting in wanted:
            start = time.perf_counter()
            runs[setting], meta, headers[setting] = run_setting(setting, Path(work), steps=steps, quick=quick,
                                                                layers_only=layers_only, models_only=models_only)
            timings[setting], errors[setting], kinds = meta["timings"], meta["errors"], {**kinds, **meta["kinds"]}
            if progress:
                print(f"{setting}: {time.perf_counter() - start:.0f} s, oneDNN isa "
                      f"{headers[setting]['onednn_isa'] or '(none)'}; failed: {', '.join(errors[setting]) or 'none'}",
                      file=sys.stderr, flush=True)
    return compare_runs(runs, kinds=kinds, timings=timings, headers=headers, errors=errors)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="results folder (default: the project's results/)")
    parser.add_argument("--settings", default=",".join(s for s in SETTINGS if s != "default"),
                        help=f"comma-separated subset of {','.join(SETTINGS)}")
    parser.add_argument("--steps", type=int, default=8, help="training steps per model (the first is not timed)")
    parser.add_argument("--quick", action="store_true", help="10 frames, 2 clips per model: a smoke run")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--layers", help=argparse.SUPPRESS)  # newline-separated layer names (tests)
    parser.add_argument("--models", help=argparse.SUPPRESS)  # comma-separated model names, "" for none
    args = parser.parse_args(argv)
    layers_only = args.layers.split("\n") if args.layers is not None else None
    models_only = [m for m in args.models.split(",") if m] if args.models is not None else None
    if args.worker is not None:
        import helpers  # noqa: F401  # isort: skip  (first: hides TensorFlow's native log lines)
        import tensorflow as tf

        tf.get_logger().setLevel("ERROR")  # one trace per layer is the point, not a retracing to warn of

        worker(args.worker, steps=args.steps, quick=args.quick, layers_only=layers_only, models_only=models_only)
        return 0
    settings = [s for s in args.settings.split(",") if s]
    unknown = [s for s in settings if s not in SETTINGS]
    if unknown:
        parser.error(f"--settings: unknown {', '.join(unknown)}; choose from {', '.join(SETTINGS)}")
    if args.steps < 2:
        parser.error("--steps: at least 2 (the first step traces the graph and is not timed)")
    from helpers.config import project_paths
    from helpers.results import write_table

    out = args.out or project_paths(quick=args.quick).results_dir
    try:
        table = measure(settings, steps=args.steps, quick=args.quick, layers_only=layers_only,
                        models_only=models_only)
    except (CpuDependenceError, subprocess.TimeoutExpired) as error:
        print(f"cpu_dependence: {error}", file=sys.stderr)
        return 1
    path = write_table(table, Path(out) / "cpu_dependence.csv", floatfmt=".3g")
    print(f"wrote {path} and {path.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
