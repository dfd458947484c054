"""Atomic writes, and the clean-up of what killed runs left."""

import os
import subprocess
import sys

import pytest

from helpers import atomic
from helpers.dataset import create_dataset
from helpers.synthetic import generate_dataset


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _umask() -> int:
    mask = os.umask(0o22)
    os.umask(mask)
    return mask


def test_a_file_is_replaced_whole_or_not_at_all(tmp_path):
    target = tmp_path / "table.csv"
    atomic.write_text(target, "old\n")
    assert target.read_text() == "old\n" and (target.stat().st_mode & 0o777) == 0o666 & ~_umask()
    with pytest.raises(RuntimeError, match="boom"), atomic.atomic_write(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old\n"
    atomic.write_text(target, "new\n")
    assert target.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]  # no temporary file left


def test_a_folder_is_replaced_whole_or_not_at_all(tmp_path):
    target = tmp_path / "entry"
    with atomic.atomic_write(target, directory=True) as tmp:
        assert tmp.is_dir() and not any(tmp.iterdir()) and tmp.parent == tmp_path
        (tmp / "a").write_text("1")
    assert (target / "a").read_text() == "1" and (target.stat().st_mode & 0o777) == 0o777 & ~_umask()
    with pytest.raises(KeyboardInterrupt), atomic.atomic_write(target, directory=True) as tmp:
        (tmp / "b").write_text("2")
        raise KeyboardInterrupt
    assert sorted(p.name for p in target.iterdir()) == [atomic.OWNED_MARKER, "a"]
    with atomic.atomic_write(target, directory=True) as tmp:  # an existing folder written here is replaced
        (tmp / "b").write_text("2")
    assert sorted(p.name for p in target.iterdir()) == [atomic.OWNED_MARKER, "b"]
    assert [p.name for p in tmp_path.iterdir()] == ["entry"]


def test_temp_path_is_named_for_this_host_and_process(tmp_path):
    target = tmp_path / "entry"
    first, second = atomic.temp_path(target, directory=True), atomic.temp_path(target, directory=True)
    assert first != second and first.is_dir() and not any(first.iterdir())  # tempfile: fresh every time
    assert first.name.startswith(f"entry.tmp-{atomic._host()}-{os.getpid()}-")
    assert atomic.stale_temp_paths(target) == []  # this process runs: its temporaries are not stale
    assert atomic.temp_path(tmp_path / "model.keras", suffix=".keras").name.endswith(".keras")  # for Model.save


def test_only_leftovers_of_dead_processes_on_this_host_are_removed(tmp_path):
    target = tmp_path / "entry"
    host = atomic._host()
    dead, alive = _dead_pid(), os.getpid()
    names = {
        "dead": f"entry.tmp-{host}-{dead}-k3x_9a2b",
        "dead_legacy_host": f"entry.tmp-{host}-{dead}",  # the older names, without tempfile's part
        "dead_legacy": f"entry.tmp-{dead}",
        "alive": f"entry.tmp-{host}-{alive}-ab12cd34",  # this very process: a live writer
        "other_host": f"entry.tmp-elsewhere-{dead}-ab12cd34",  # may be a live writer on another machine
        "other_target_dead": f"other.tmp-{host}-{dead}-ab12cd34",
        "not_temp": "entry.tmp-notes",
    }
    for name in names.values():
        (tmp_path / name).mkdir()
    own_dead = sorted([names["dead"], names["dead_legacy_host"], names["dead_legacy"]])
    assert [p.name for p in atomic.stale_temp_paths(target)] == own_dead
    whole = [p.name for p in atomic.stale_temp_paths(target, whole_folder=True)]
    assert whole == sorted([*own_dead, names["other_target_dead"]])

    own = atomic.temp_path(target)
    left = {p.name for p in tmp_path.iterdir()}
    assert not left & set(own_dead)
    assert {names["alive"], names["other_host"], names["other_target_dead"], names["not_temp"], own.name} <= left


def test_writers_clean_up_a_killed_runs_leftovers(tmp_path):
    dead = _dead_pid()
    root = tmp_path / "ds"
    leftover = tmp_path / f"ds.tmp-{atomic._host()}-{dead}-ab12cd34"
    (leftover / "Clapping").mkdir(parents=True)
    generate_dataset(root, class_names=["Clapping", "Waving"], num_groups=2, clips_per_group=2,
                     min_frames=8, max_frames=10, num_workers=1, progress=False)
    assert not leftover.exists()

    cache = tmp_path / "cache"
    stale_entry = cache / f"0123abcd.tmp-{atomic._host()}-{dead}"
    stale_entry.mkdir(parents=True)
    create_dataset(root, num_frames=4, image_size=16, cache_dir=cache, num_workers=1)
    assert not stale_entry.exists()
    assert not [p for p in cache.iterdir() if ".tmp-" in p.name]


def test_a_file_never_replaces_a_folder(tmp_path):
    """`export --format tflite --output exp/models` turned a folder of models into one file."""
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "m.keras").write_text("model")
    with pytest.raises(atomic.RefusedTarget, match=r"models: is a folder; a file would replace it"):
        with atomic.atomic_write(folder) as tmp:
            raise AssertionError(f"the block ran: {tmp}")  # refused before any work
    with pytest.raises(atomic.RefusedTarget, match="is a folder"):
        atomic.replace(atomic.temp_path(folder), folder)
    assert (folder / "m.keras").read_text() == "model"
    (tmp_path / "empty.mp4").mkdir()
    with pytest.raises(atomic.RefusedTarget, match="is a folder"):  # empty, still a folder
        atomic.check_target(tmp_path / "empty.mp4")


def test_a_folder_replaces_only_an_empty_folder_or_one_written_here(tmp_path):
    """`export --format saved_model --output r` deleted r/ and the model inside it."""
    users = tmp_path / "r"
    (users / "models").mkdir(parents=True)
    (users / "models" / "m.keras").write_text("model")
    with pytest.raises(atomic.RefusedTarget, match=r"r: is a folder that was not written here and is not empty"):
        with atomic.atomic_write(users, directory=True):
            raise AssertionError("the block ran")
    assert (users / "models" / "m.keras").read_text() == "model"

    empty = tmp_path / "empty"
    empty.mkdir()
    with atomic.atomic_write(empty, directory=True) as tmp:
        (tmp / "saved_model.pb").write_text("1")
    with atomic.atomic_write(empty, directory=True) as tmp:  # written here: replaced
        (tmp / "saved_model.pb").write_text("2")
    assert (empty / "saved_model.pb").read_text() == "2"
    file = tmp_path / "file"
    file.write_text("x")
    with pytest.raises(atomic.RefusedTarget, match="is a file, not a folder"):
        atomic.check_target(file, directory=True)
    entry = tmp_path / "cache" / "clips_abc"  # a cache folder (owned): a half-written entry is replaced
    entry.mkdir(parents=True)
    (entry / "features.u8").write_bytes(b"\0")
    with atomic.atomic_write(entry, directory=True, whole_folder=True) as tmp:
        (tmp / "meta.json").write_text("{}")
    assert not (entry / "features.u8").exists()


def test_an_output_that_is_an_input_is_refused(tmp_path):
    """`classify in.mp4 --output in.mp4` replaced the video with its annotated copy."""
    video = tmp_path / "in.mp4"
    video.write_bytes(b"original")
    link = tmp_path / "link.mp4"
    link.symlink_to(video)
    hard = tmp_path / "hard.mp4"
    os.link(video, hard)
    (tmp_path / "sub").mkdir()
    for target in (video, link, hard, tmp_path / "sub" / ".." / "in.mp4"):
        with pytest.raises(atomic.RefusedTarget, match=r"is the input .*in\.mp4"):
            atomic.check_target(target, inputs=[None, video])
    with pytest.raises(atomic.RefusedTarget, match="is a folder holding the input"):
        atomic.check_target(tmp_path, directory=True, inputs=[video])
    assert atomic.check_target(tmp_path / "out.mp4", inputs=[video]) == tmp_path / "out.mp4"
    assert video.read_bytes() == b"original"
