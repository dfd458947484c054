"""Timing: methods compared are run round-robin (interleaved) and reported as medians."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence

from tqdm.auto import tqdm


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def time_interleaved(fns: dict[str, Callable[[], object]], *, reps: int,
                     bar: tqdm | None = None) -> dict[str, dict[str, list[float]]]:
    """Time several functions round-robin: repetition ``r`` starts with the ``r``-th one.

    Interleaving makes load from other processes hit every method alike, so their
    ratios hold even on a busy machine.

    Args:
        fns: Name -> zero-argument function.
        reps: Calls of each function.
        bar: Advanced by one per call.

    Returns:
        Name -> ``{"wall_ms": [...], "cpu_ms": [...]}`` (process CPU time, all threads).
    """
    names = list(fns)
    times = {name: {"wall_ms": [], "cpu_ms": []} for name in names}
    for r in range(reps):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            wall, cpu = time.perf_counter(), time.process_time()
            fns[name]()
            times[name]["cpu_ms"].append((time.process_time() - cpu) * 1e3)
            times[name]["wall_ms"].append((time.perf_counter() - wall) * 1e3)
            if bar is not None:
                bar.update(1)
    return times
