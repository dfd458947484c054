"""Wall time and peak memory of ``python -m helpers classify`` per model file: what the README's deployment
paragraph quotes for a ``.keras`` model (TensorFlow) against its ``.tflite`` export (LiteRT alone).

    python -m benchmarks.cli_footprint CLIP MODEL [MODEL ...] [--python PY] [--reps 3] [--output]

Each run is a fresh process (``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` of a wrapper that runs one
classify); ``--python`` runs it with another interpreter, e.g. a venv holding only numpy, av,
opencv-python-headless, ai-edge-litert and tqdm. Prints a Markdown table of medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Runs one command and prints its wall seconds and its peak RSS in MiB (its own process: one child's maximum).
_WRAPPER = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
            "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).returncode; "
            "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, code)")


def footprint(python: str, clip: Path, model: Path, *, output: Path | None = None) -> tuple[float, float]:
    """``(wall seconds, peak RSS MiB)`` of one ``classify CLIP --model MODEL [--output]`` in a fresh process."""
    command = [python, "-m", "helpers", "classify", str(clip), "--model", str(model), "--json",
               *(["--output", str(output)] if output else [])]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([python, "-c", _WRAPPER, *command], capture_output=True, text=True, env=env, check=True)
    wall, rss, code = done.stdout.split()
    if code != "0":
        raise RuntimeError(f"{model}: classify exited {code}")
    return float(wall), float(rss)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", type=Path)
    parser.add_argument("models", type=Path, nargs="+")
    parser.add_argument("--python", default=sys.executable, help="interpreter to run the CLI with")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--output", action="store_true", help="also write an annotated copy (--output)")
    args = parser.parse_args(argv)
    print("| model | --output | wall s (median) | peak RSS MiB (median) |\n| --- | --- | --- | --- |")
    for model in args.models:
        out = Path(f"/tmp/cli_footprint_{os.getpid()}.mp4") if args.output else None
        runs = [footprint(args.python, args.clip, model, output=out) for _ in range(args.reps)]
        print(f"| {model.name} | {'yes' if out else 'no'} | {statistics.median(r[0] for r in runs):.2f} | "
              f"{statistics.median(r[1] for r in runs):.0f} |", flush=True)
        if out is not None:
            out.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
