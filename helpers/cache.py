"""The on-disk array cache of the clips (:func:`helpers.dataset.create_dataset`) and of their
optical flow (:func:`helpers.flow.create_flow_dataset`).

An entry is a folder ``<cache_dir>/<key>`` named by :func:`cache_key` (a hash of
everything the array depends on) that holds one raw array file and ``meta.json``
(its ``shape`` and whatever the writer adds). :func:`write_entry` streams the array to
disk while it is computed (memory stays bounded by what is in flight, not by the
dataset) in a temporary folder that replaces the entry when complete
(:func:`helpers.atomic.atomic_write`), with ``meta.json`` written last; an interrupted
run leaves no entry. :func:`load_entry` returns a complete entry memory-mapped
read-only, and None for an entry without its metadata or with a short array file
(recomputed, never reused). :func:`load_or_build` is the one way callers use both: concurrent
builders of one entry (several processes, notebooks or jobs on one cache) take turns on a file
lock, so one builds and the others load what it wrote.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from helpers.atomic import atomic_write, folder_lock

META = "meta.json"


def cache_key(prefix: str, settings: object, data: Iterable[bytes | memoryview] = ()) -> str:
    """``<prefix>_<16 hex digits>``: the SHA-256 of ``settings`` (as JSON) then of every chunk of ``data``."""
    digest = hashlib.sha256(json.dumps(settings).encode())
    for chunk in data:
        digest.update(chunk)
    return f"{prefix}_{digest.hexdigest()[:16]}"


def load_entry(entry: str | os.PathLike, *, filename: str, dtype: str | np.dtype) -> tuple[np.ndarray, dict] | None:
    """A complete cache entry: ``(array, meta)``, the array memory-mapped read-only; None otherwise.

    Args:
        entry: The entry's folder.
        filename: The array file inside it.
        dtype: The array's dtype.

    Returns:
        The array of shape ``meta["shape"]`` (an empty in-memory array when it has no
        rows) and the whole ``meta.json``; None when the entry has no ``meta.json`` (not
        complete) or its array file is not the size the shape says.
    """
    entry = Path(entry)
    meta_path = entry / META
    if not meta_path.exists():  # written last, inside the temporary folder
        return None
    meta = json.loads(meta_path.read_text())
    shape, dtype = tuple(meta["shape"]), np.dtype(dtype)
    data = entry / filename
    if not data.exists() or data.stat().st_size != int(np.prod(shape)) * dtype.itemsize:
        return None
    if shape[0] == 0:
        return np.empty(shape, dtype), meta
    return np.memmap(data, dtype=dtype, mode="r", shape=shape), meta


@contextlib.contextmanager
def write_entry(entry: str | os.PathLike, *, filename: str) -> Iterator[tuple[BinaryIO, dict]]:
    """Write a cache entry atomically; the block writes the array's bytes and fills its metadata.

    Use it as ``with write_entry(entry, filename="x.bin") as (sink, meta):``, then
    ``sink.write(rows.tobytes())`` row by row and ``meta.update(shape=[...], ...)``. When
    the block ends normally, ``meta.json`` is written and the entry renamed into place
    (replacing an older one); when it raises, nothing is left. Leftovers of killed runs in
    the cache folder are removed (:func:`helpers.atomic.remove_stale`).

    Yields:
        ``(sink, meta)``: the array file open for binary writing, and the dict to fill.
    """
    meta: dict = {}
    with atomic_write(entry, directory=True, whole_folder=True) as tmp:
        with open(Path(tmp) / filename, "wb") as sink:
            yield sink, meta
        (Path(tmp) / META).write_text(json.dumps(meta))


@contextlib.contextmanager
def cache_lock(cache_dir: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive lock on the cache folder itself (:func:`helpers.atomic.folder_lock`).

    Builders of other entries in the same folder wait too, which costs little since a build already uses every
    core (:mod:`helpers.parallel`).
    A spawned worker still re-running an unguarded script (the test of ``helpers.parallel._bootstrapping``)
    takes no lock: its parent holds it, and the worker must go on to :func:`helpers.parallel.parallel_map`,
    which stops it and makes the parent explain the missing main guard.
    """
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        yield
        return
    with folder_lock(cache_dir, waiting=f"note: waiting for another process building in {cache_dir}"):
        yield


def load_or_build(entry: str | os.PathLike, *, filename: str, dtype: str | np.dtype,
                  build: Callable[[BinaryIO, dict], None]) -> tuple[np.ndarray, dict]:
    """The complete entry (:func:`load_entry`), built first by ``build(sink, meta)`` (:func:`write_entry`) if missing.

    Concurrent callers take turns (:func:`cache_lock`): the first builds the entry, the others
    wait and load it; every caller returns the same complete entry.
    """
    loaded = load_entry(entry, filename=filename, dtype=dtype)
    if loaded is not None:
        return loaded
    with cache_lock(Path(entry).parent):
        loaded = load_entry(entry, filename=filename, dtype=dtype)  # another process may have built it meanwhile
        if loaded is None:
            with write_entry(entry, filename=filename) as (sink, meta):
                build(sink, meta)
            loaded = load_entry(entry, filename=filename, dtype=dtype)
    if loaded is None:
        raise RuntimeError(f"{entry}: the cache entry is incomplete right after it was written")
    return loaded
