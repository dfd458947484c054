"""Worker pools that fail with a clear error instead of hanging when a worker dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from helpers.parallel import BOOTSTRAP_EXIT_CODE, WorkerProcessError, death_message, parallel_map

REPO = Path(__file__).resolve().parents[1]
GUARD = 'if __name__ == "__main__":'


# worker functions: module level, so spawned workers import them by name


def _square(x: int) -> int:
    if x % 3 == 0:
        time.sleep(0.05)  # finish out of order
    return x * x


def _pid_or_sleep(x: int | str) -> int:
    """0: this worker's pid at once; a path: sleep a minute, then create that file."""
    if x:
        time.sleep(60)
        Path(x).touch()
    return os.getpid()


def _explode(x: int) -> int:
    if x == 2:
        raise ValueError(f"bad item {x}")
    return x


def _exit_hard(x: int) -> int:
    os._exit(3)


def _kill_self(x: int) -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return x


_initialized: list[int] = []


def _record_init() -> None:
    _initialized.append(os.getpid())


def test_ordered_results_come_in_item_order():
    with parallel_map(_square, range(20), operation="demo", num_workers=2, chunksize=3) as results:
        assert list(results) == [x * x for x in range(20)]


def test_unordered_results_are_all_there():
    with parallel_map(_square, range(20), operation="demo", num_workers=2, ordered=False, chunksize=4) as results:
        assert sorted(results) == [x * x for x in range(20)]


def test_items_are_read_lazily_a_few_chunks_at_a_time():
    pulled = []

    def items():
        for x in range(40):
            pulled.append(x)
            yield x

    with parallel_map(_square, items(), operation="demo", num_workers=2, chunksize=2, in_flight=3) as results:
        assert next(results) == 0
        assert len(pulled) <= (3 + 1) * 2  # the window, plus the chunk submitted on taking the first
        assert list(results) == [x * x for x in range(1, 40)]
    assert len(pulled) == 40


def test_one_worker_runs_here_without_the_initializer():
    _initialized.clear()
    with parallel_map(_pid_or_sleep, [0, 0], operation="demo", num_workers=1, initializer=_record_init) as results:
        assert list(results) == [os.getpid()] * 2
    assert _initialized == []


def test_a_workers_exception_is_re_raised_as_is():
    with pytest.raises(ValueError, match="bad item 2"):
        with parallel_map(_explode, range(10), operation="demo", num_workers=2) as results:
            list(results)


@pytest.mark.parametrize(("fn", "expected"),
                         [(_exit_hard, "it exited with status 3"), (_kill_self, "killed by SIGKILL")])
def test_a_dead_worker_fails_the_call_instead_of_hanging(fn, expected):
    with pytest.raises(WorkerProcessError, match=f"^demo: a worker process died unexpectedly \\({expected}") as info:
        with parallel_map(fn, range(10), operation="demo", num_workers=2) as results:
            list(results)
    assert "\n" not in str(info.value)


def test_leaving_early_terminates_busy_workers(tmp_path):
    items = [0, *(str(tmp_path / f"finished{i}") for i in range(3))]
    with pytest.raises(KeyboardInterrupt):
        with parallel_map(_pid_or_sleep, items, operation="demo", num_workers=2) as results:
            pid = next(results)
            raise KeyboardInterrupt  # as if the user pressed Ctrl-C while a worker sleeps for a minute
    with pytest.raises(ProcessLookupError):  # terminated and reaped
        os.kill(pid, 0)
    assert not list(tmp_path.iterdir())  # no sleeping item ran to its end: the workers were not waited for


def test_death_messages_name_the_operation_cause_and_fix():
    guard = death_message(operation="create_dataset", exitcodes=[BOOTSTRAP_EXIT_CODE, -signal.SIGTERM],
                          workers_started=False)
    assert guard.startswith("create_dataset: ") and GUARD in guard and "num_workers=1" in guard
    killed = death_message(operation="op", exitcodes=[-signal.SIGTERM, -signal.SIGKILL], workers_started=True)
    assert "killed by SIGKILL" in killed and "SIGTERM" not in killed
    assert "initializer" in death_message(operation="op", exitcodes=[0], workers_started=False)


def _run_script(tmp_path: Path, body: str, *, guarded: bool, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``body`` as a script file, at module level or under the main guard; it must not hang."""
    code = textwrap.dedent(body)
    if guarded:
        code = f"{GUARD}\n" + textwrap.indent(code, "    ")
    script = tmp_path / ("guarded.py" if guarded else "unguarded.py")
    script.write_text(code)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    try:
        return subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired as err:  # the old multiprocessing.Pool behaviour: respawning forever
        raise AssertionError(f"{script.name} hung for {timeout} s") from err


def _assert_clear_guard_error(proc: subprocess.CompletedProcess, operation: str) -> None:
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"helpers.parallel.WorkerProcessError: {operation}: "), proc.stderr
    assert GUARD in last and "unguarded.py" in last
    assert "done" not in proc.stdout  # neither the parent nor a worker ran the rest of the script


def test_unguarded_script_fails_fast_with_the_guard_message(tmp_path):
    body = """
        from helpers.parallel import parallel_map
        with parallel_map(abs, range(-5, 5), operation="demo", num_workers=2) as results:
            print(list(results))
        print("done")
    """
    _assert_clear_guard_error(_run_script(tmp_path, body, guarded=False), "demo")
    proc = _run_script(tmp_path, body, guarded=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [str([5, 4, 3, 2, 1, 0, 1, 2, 3, 4]), "done"]


_GENERATE = """
    from helpers.synthetic import generate_dataset
    generate_dataset({target!r}, class_names=["Waving"], num_groups=2, clips_per_group=1, frame_size=(32, 24),
                     min_frames=4, max_frames=4, num_workers=2, progress=False)
    print("done")
"""


def test_generate_dataset_in_an_unguarded_script_fails_and_leaves_no_temp_folder(tmp_path):
    target = tmp_path / "out" / "ucf"
    proc = _run_script(tmp_path, _GENERATE.format(target=str(target)), guarded=False)
    _assert_clear_guard_error(proc, "generate_dataset")
    assert not target.exists()
    assert not [p.name for p in target.parent.iterdir() if ".tmp-" in p.name]


def test_generate_dataset_in_a_guarded_script_works(tmp_path):
    target = tmp_path / "out" / "ucf"
    proc = _run_script(tmp_path, _GENERATE.format(target=str(target)), guarded=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["done"]
    assert sorted(p.name for p in (target / "Waving").iterdir()) == ["v_Waving_g01_c01.avi", "v_Waving_g02_c01.avi"]
    assert [p.name for p in target.parent.iterdir()] == ["ucf"]


def test_create_dataset_in_an_unguarded_script_fails(tmp_path, tiny_dataset):
    cache = tmp_path / "cache"
    body = f"""
        from helpers.data import create_dataset
        create_dataset({str(tiny_dataset)!r}, num_frames=4, image_size=16, cache_dir={str(cache)!r},
                       num_workers=2, progress=False)
        print("done")
    """
    _assert_clear_guard_error(_run_script(tmp_path, body, guarded=False), "create_dataset")
    assert not [p.name for p in cache.iterdir()]  # no entry, complete or temporary


def test_create_flow_dataset_in_an_unguarded_script_fails(tmp_path):
    cache = tmp_path / "cache"
    body = f"""
        import numpy as np
        from helpers.flow import create_flow_dataset
        create_flow_dataset(np.zeros((3, 4, 16, 16, 3), np.uint8), cache_dir={str(cache)!r}, num_workers=2,
                            progress=False)
        print("done")
    """
    _assert_clear_guard_error(_run_script(tmp_path, body, guarded=False), "create_flow_dataset")
    assert not [p.name for p in cache.iterdir()]
