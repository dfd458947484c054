"""Worker processes for the parallel loops: rendering, frame extraction, optical flow.

:func:`parallel_map` runs a function over items in spawned worker processes and
yields the results, in order or as they finish, with a bounded number of items in
flight. It is what :func:`helpers.synthetic.generate_dataset`,
:func:`helpers.dataset.create_dataset` and :func:`helpers.flow.create_flow_dataset` use.

Workers are *spawned*, never forked: notebooks have TensorFlow's threads running, and
forking a process with threads can deadlock the child.

It is built on :class:`concurrent.futures.ProcessPoolExecutor` (spawn context), which
already turns a dead worker into ``BrokenProcessPool`` instead of hanging as
``multiprocessing.Pool`` does. What this module adds, and why ``executor.map(fn, items,
chunksize=...)`` alone does not do the job:

* ``executor.map`` submits every item before yielding the first result, so a
  memory-mapped dataset of clips would be read and pickled into the call queue whole;
  here at most ``in_flight`` chunks are submitted at a time.
* ``BrokenProcessPool`` says only that "a process terminated abruptly". The commonest
  death is a script without an ``if __name__ == "__main__":`` guard: every spawned worker
  re-runs the script, reaches the same call again and dies while bootstrapping. Here
  such a worker exits at once with :data:`BOOTSTRAP_EXIT_CODE`, and the parent raises one
  :class:`WorkerProcessError` line that names the operation, the cause (from the
  workers' exit codes: the missing guard, a signal such as the out-of-memory killer's
  SIGKILL) and the fix.
* ``executor.shutdown(cancel_futures=True)`` cancels pending items but waits for the
  running ones; before Python 3.14 (``terminate_workers``) nothing stops them. Here a
  worker's error, Ctrl-C or leaving the loop early terminates busy workers at once.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import multiprocessing
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

#: Exit status of a spawned worker that, while re-running the parent's main script before
#: starting work, reached :func:`parallel_map` again (the script has no main guard).
BOOTSTRAP_EXIT_CODE = 86
_GUARD = 'if __name__ == "__main__":'


class WorkerProcessError(RuntimeError):
    """A worker process died (at start-up or later); the message names the operation, cause and fix."""


def _run_chunk(fn: Callable[[Any], Any], chunk: list) -> list:
    """Run in a worker: ``fn`` on every item of one chunk."""
    return [fn(item) for item in chunk]


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    """Lists of ``size`` consecutive items (the last may be shorter), taken from ``items`` lazily."""
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _bootstrapping() -> bool:
    """True in a spawned child still re-running its parent's main module, before its own work starts.

    ``multiprocessing`` marks that phase with ``current_process()._inheriting`` and refuses to
    start processes during it.
    """
    return bool(getattr(multiprocessing.current_process(), "_inheriting", False))


def _main_script() -> str | None:
    """What spawned workers re-run before they work: the main script's path or ``-m`` module, else None.

    Mirrors ``multiprocessing.spawn``: a ``python -m package`` main (``package.__main__``)
    and an interactive session are not re-run.
    """
    main = sys.modules.get("__main__")
    name = getattr(getattr(main, "__spec__", None), "name", None)
    if name is not None:
        return None if name == "__main__" or name.endswith(".__main__") else f"module {name}"
    path = getattr(main, "__file__", None)
    return str(path) if path else None


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def death_message(*, operation: str, exitcodes: Iterable[int | None], workers_started: bool) -> str:
    """The one-line explanation of dead workers.

    Args:
        operation: The public function that started the workers, e.g. ``"create_dataset"``.
        exitcodes: Exit statuses of the pool's workers (None: unknown; negative: killed by
            that signal; the surviving workers are terminated with SIGTERM once one dies).
        workers_started: Whether any worker got through start-up (re-running the main
            module) to its initializer.

    Returns:
        ``"<operation>: <what happened>; <the fix>"`` on one line.
    """
    codes = [code for code in exitcodes if code is not None]
    script = _main_script()
    if BOOTSTRAP_EXIT_CODE in codes:
        where = script or "the main module"
        return (f"{operation}: its worker processes exited at start-up because {where} has no "
                f"`{_GUARD}` guard: each spawned worker re-runs it and reaches {operation} again. "
                f"Put the code that calls {operation} under `{_GUARD}` (or pass num_workers=1).")
    # the first worker to die takes the others down with SIGTERM: report the first cause
    culprits = [code for code in codes if code != -signal.SIGTERM] or codes
    code = culprits[0] if culprits else None
    if code is None:
        how = "the pool broke"
    elif code < 0:
        how = f"killed by {_signal_name(-code)}" + (", often the out-of-memory killer" if -code == signal.SIGKILL
                                                    else "")
    elif code == 0:
        how = "it stopped before any work; did its initializer fail? See the log above"
    else:
        how = f"it exited with status {code}; see its error output above"
    message = f"{operation}: a worker process died unexpectedly ({how})."
    if not workers_started and script is not None and code is not None and code > 0:
        return (f"{message} It died while starting, re-running {script}: code there that runs at import time "
                f"(such as the call to {operation}) belongs under `{_GUARD}`.")
    return f"{message} Run with num_workers=1 to see the error in this process."


def _start_worker(ready: Any, initializer: Callable[[], Any] | None) -> None:
    """Run first in every worker, once it is through start-up: count it, then run ``initializer``."""
    with ready.get_lock():
        ready.value += 1
    if initializer is not None:
        initializer()


class _Workers:
    """A spawn-context ``ProcessPoolExecutor`` and what is needed to explain and stop its workers."""

    def __init__(self, *, operation: str, num_workers: int, initializer: Callable[[], Any] | None):
        self.operation = operation
        context = multiprocessing.get_context("spawn")
        self.ready = context.Value("i", 0)  # workers through start-up
        self.executor = ProcessPoolExecutor(max_workers=num_workers, mp_context=context,
                                            initializer=_start_worker, initargs=(self.ready, initializer))
        # the executor's own map of pid -> Process (the same dict object its manager thread uses);
        # the only way before Python 3.14 to read exit codes and to terminate busy workers
        processes = getattr(self.executor, "_processes", None)
        self.processes: dict = processes if isinstance(processes, dict) else {}
        self.window: collections.deque[Future] = collections.deque()  # chunks submitted and not yet read

    def error(self) -> WorkerProcessError:
        """The error to raise once the pool is broken (waits for the executor to reap its workers)."""
        self.executor.shutdown(wait=True)
        exitcodes = [process.exitcode for process in list(self.processes.values())]
        return WorkerProcessError(death_message(operation=self.operation, exitcodes=exitcodes,
                                                workers_started=self.ready.value > 0))

    def stop(self) -> None:
        """Shut the pool down; if chunks are still pending, terminate the workers first (their work is lost)."""
        if not all(future.done() for future in self.window):
            for process in list(self.processes.values()):
                with contextlib.suppress(Exception):
                    process.terminate()
        # joins the manager thread, which joins (reaps) every worker
        self.executor.shutdown(wait=True, cancel_futures=True)

    def results(self, fn: Callable[[Any], Any], items: Iterable, *, ordered: bool, chunksize: int,
                in_flight: int) -> Iterator:
        """``fn(item)`` for every item, with at most ``in_flight`` chunks submitted at a time."""
        chunks = _chunks(items, chunksize)
        window = self.window

        def refill() -> None:
            while len(window) < in_flight:
                chunk = next(chunks, None)
                if chunk is None:
                    return
                window.append(self.executor.submit(_run_chunk, fn, chunk))

        try:
            refill()
            while window:
                if ordered:
                    future = window[0]
                else:
                    done, _ = wait(window, return_when=FIRST_COMPLETED)
                    future = next(f for f in window if f in done)  # the oldest finished chunk
                # a worker's exception is re-raised here; the future leaves the window only when done,
                # so an interrupt while waiting counts it as pending
                chunk_results = future.result()
                window.remove(future)
                refill()  # keep the workers busy while the caller handles this chunk
                yield from chunk_results
        except BrokenProcessPool:
            raise self.error() from None


@contextlib.contextmanager
def parallel_map(
    fn: Callable[[Any], Any],
    items: Iterable,
    *,
    operation: str,
    num_workers: int,
    initializer: Callable[[], Any] | None = None,
    ordered: bool = True,
    chunksize: int = 1,
    in_flight: int | None = None,
) -> Iterator[Iterator]:
    """Run ``fn`` over ``items`` in spawned worker processes; the context yields an iterator of results.

    Use it as ``with parallel_map(fn, items, operation="...", num_workers=n) as results:``.
    Leaving the block stops the pool: gracefully when no submitted chunk is pending; by
    terminating the workers first otherwise (a worker's error, KeyboardInterrupt, the
    loop left early), as ``Pool.terminate`` does. ``items`` are read lazily: at most ``in_flight``
    chunks are submitted at a time, so a large (or memory-mapped) input is never copied
    into the pool whole.

    Args:
        fn: A module-level function of one item (spawned workers import it by name).
        items: The inputs, any iterable.
        operation: The public function that runs the loop, named in errors.
        num_workers: Processes; 1 or fewer runs ``fn`` here, serially, without
            ``initializer`` (as a plain ``map``).
        initializer: Called once in each worker before its first item.
        ordered: Yield results in the order of ``items``; False yields each chunk's
            results as soon as the chunk is done.
        chunksize: Items sent to a worker at a time.
        in_flight: Chunks submitted and not yet read; None means ``4 * num_workers``.

    Yields:
        An iterator over ``fn(item)``. A worker's exception is re-raised as it is.

    Raises:
        WorkerProcessError: A worker process died. In a spawned worker that re-runs an
            unguarded script and so reaches this call again, the worker exits at once with
            :data:`BOOTSTRAP_EXIT_CODE` (running ``finally`` blocks), and the parent raises
            this error saying the script needs an ``if __name__ == "__main__":`` guard.
    """
    if num_workers <= 1:
        yield map(fn, items)
        return
    if _bootstrapping():
        # we are a doomed worker re-running an unguarded script: starting a pool here would fail,
        # and going on would run the rest of the user's script in a worker; the parent explains
        raise SystemExit(BOOTSTRAP_EXIT_CODE)
    if chunksize < 1:
        raise ValueError(f"chunksize must be >= 1, got {chunksize}")
    in_flight = 4 * num_workers if in_flight is None else in_flight
    if in_flight < 1:
        raise ValueError(f"in_flight must be >= 1, got {in_flight}")
    workers = _Workers(operation=operation, num_workers=num_workers, initializer=initializer)
    try:
        yield workers.results(fn, items, ordered=ordered, chunksize=chunksize, in_flight=in_flight)
    finally:
        workers.stop()
