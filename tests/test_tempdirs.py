"""Private temporary folders and the clean-up of what killed runs left."""

import os
import subprocess
import sys

from helpers import tempdirs
from helpers.data import create_dataset
from helpers.synthetic import generate_dataset


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_private_temp_dir_is_named_for_this_process_and_empty(tmp_path):
    target = tmp_path / "entry"
    tmp = tempdirs.private_temp_dir(target)
    assert tmp.is_dir() and not any(tmp.iterdir())
    assert tmp.parent == tmp_path and tmp.name.endswith(f"-{os.getpid()}") and tmp.name.startswith("entry.tmp-")
    (tmp / "junk").write_text("x")
    assert not any(tempdirs.private_temp_dir(target).iterdir())  # a second call starts empty again


def test_only_leftovers_of_dead_processes_on_this_host_are_removed(tmp_path):
    target = tmp_path / "entry"
    host = tempdirs._host()
    dead, alive = _dead_pid(), os.getpid()
    names = {
        "dead": f"entry.tmp-{host}-{dead}",
        "dead_legacy": f"entry.tmp-{dead}",          # the older name without a host
        "alive": f"entry.tmp-{host}-{alive}",    # this very process: a live writer
        "other_host": f"entry.tmp-elsewhere-{dead}",  # may be a live writer on another machine
        "other_target_dead": f"other.tmp-{host}-{dead}",
        "not_temp": "entry.tmp-notes",
    }
    for name in names.values():
        (tmp_path / name).mkdir()
    assert [p.name for p in tempdirs.stale_temp_dirs(target)] == sorted([names["dead"], names["dead_legacy"]])
    whole = [p.name for p in tempdirs.stale_temp_dirs(target, whole_folder=True)]
    assert whole == sorted([names["dead"], names["dead_legacy"], names["other_target_dead"]])

    own = tempdirs.private_temp_dir(target)
    left = {p.name for p in tmp_path.iterdir()}
    assert names["dead"] not in left and names["dead_legacy"] not in left
    assert {names["other_host"], names["other_target_dead"], names["not_temp"], own.name} <= left


def test_writers_clean_up_a_killed_runs_leftovers(tmp_path):
    dead = _dead_pid()
    root = tmp_path / "ds"
    leftover = tmp_path / f"ds.tmp-{tempdirs._host()}-{dead}"
    (leftover / "Clapping").mkdir(parents=True)
    generate_dataset(root, class_names=["Clapping", "Waving"], num_groups=2, clips_per_group=2,
                     min_frames=8, max_frames=10, num_workers=1, progress=False)
    assert not leftover.exists()

    cache = tmp_path / "cache"
    stale_entry = cache / f"0123abcd.tmp-{tempdirs._host()}-{dead}"
    stale_entry.mkdir(parents=True)
    create_dataset(root, num_frames=4, image_size=16, cache_dir=cache, num_workers=1)
    assert not stale_entry.exists()
    assert not [p for p in cache.iterdir() if ".tmp-" in p.name]
