"""create_dataset: bad files skipped, parallel equals serial, the cache reused and never left corrupt."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

from helpers.dataset import create_dataset
from tests.conftest import numbered_frames, write_video


def test_dataset_workers_decode_on_one_thread(monkeypatch, tmp_path):
    """create_dataset's jobs (one process per core) ask frame_extraction for one decoding thread."""
    import helpers.dataset as data
    import helpers.video as video

    calls = []
    monkeypatch.setattr(video, "DECODER_THREADS", None)  # even if the default changes
    monkeypatch.setattr(data, "frame_extraction", lambda path, **kwargs: calls.append(kwargs) or np.zeros(1))
    clip, reason = data._extract_job((str(tmp_path / "v.avi"), 8, 16))
    assert reason is None and calls == [{"num_frames": 8, "image_size": 16, "decoder_threads": 1}]


def _mixed_folder(tmp_path: Path) -> Path:
    root = tmp_path / "mixed"
    for cls in ("A", "B"):
        (root / cls).mkdir(parents=True)
        for g in (1, 2):
            write_video(root / cls / f"v_{cls}_g{g:02d}_c01.avi", numbered_frames(30 + g))
    (root / "A" / "v_A_g03_c01.avi").write_text("garbage")
    write_video(root / "B" / "v_B_g03_c01.avi", numbered_frames(4))
    return root


def test_create_dataset_skips_bad_files_and_goes_on(tmp_path, capsys):
    root = _mixed_folder(tmp_path)
    features, labels, paths = create_dataset(root, num_frames=8, image_size=16, num_workers=1, progress=False)
    assert features.shape == (4, 8, 16, 16, 3) and features.dtype == np.uint8
    assert list(labels) == [0, 0, 1, 1]
    assert all("g03" not in p for p in paths)
    err = capsys.readouterr().err
    assert "v_A_g03_c01.avi" in err and "v_B_g03_c01.avi" in err and "too short" in err
    assert "skipped 2 of 6" in err


def test_create_dataset_parallel_matches_serial_and_cache_is_reused(tmp_path):
    root = _mixed_folder(tmp_path)
    cache = tmp_path / "cache"
    serial = create_dataset(root, num_frames=8, image_size=16, num_workers=1, progress=False)
    first = create_dataset(root, num_frames=8, image_size=16, num_workers=2, cache_dir=cache, progress=False)
    np.testing.assert_array_equal(serial[0], first[0])
    assert list(serial[2]) == list(first[2])
    entries = list(cache.iterdir())
    assert len(entries) == 1 and (entries[0] / "meta.json").exists()
    stamp = (entries[0] / "features.u8").stat().st_mtime_ns
    second = create_dataset(root, num_frames=8, image_size=16, cache_dir=cache, progress=False)
    assert isinstance(second[0], np.memmap)  # read from the cache, not re-extracted
    assert (entries[0] / "features.u8").stat().st_mtime_ns == stamp
    np.testing.assert_array_equal(second[0], first[0])
    # other settings -> another cache entry
    create_dataset(root, num_frames=4, image_size=16, cache_dir=cache, num_workers=1, progress=False)
    assert len(list(cache.iterdir())) == 2


def test_interrupted_cache_write_leaves_no_corrupt_cache(tmp_path):
    """Kill create_dataset mid-way in a subprocess: no cache entry may look complete."""
    root = tmp_path / "many"
    (root / "A").mkdir(parents=True)
    for c in range(40):
        write_video(root / "A" / f"v_A_g01_c{c:02d}.avi", numbered_frames(40, size=64))
    cache = tmp_path / "cache"
    script = textwrap.dedent(f"""
        import os, signal, threading
        import helpers.dataset as d
        original = d._extract_job
        count = [0]
        def slow(job):
            count[0] += 1
            if count[0] == 10:
                os.kill(os.getpid(), signal.SIGKILL)  # die like a killed kernel, mid-write
            return original(job)
        d._extract_job = slow
        d.create_dataset({str(root)!r}, num_frames=8, image_size=16, cache_dir={str(cache)!r},
                         num_workers=1, progress=False)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, env=os.environ.copy())
    assert proc.returncode != 0
    complete = [e for e in cache.iterdir() if (e / "meta.json").exists() and ".tmp-" not in e.name]
    assert complete == []
    # the next call works and produces a complete cache
    features, _, _ = create_dataset(root, num_frames=8, image_size=16, cache_dir=cache, num_workers=1,
                                    progress=False)
    assert features.shape[0] == 40


def test_undecodable_files_are_named_in_one_line_also_from_the_cache(tmp_path, capsys):
    root = _mixed_folder(tmp_path)
    for _ in range(2):  # extracted, then read from the cache: the same one line each time
        create_dataset(root, num_frames=8, image_size=16, num_workers=1, cache_dir=tmp_path / "cache", progress=False)
        lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("WARNING: skipped 2 of 6 videos that could not be decoded: ")
        assert lines[0].count("v_A_g03_c01.avi") == 1 and lines[0].count("v_B_g03_c01.avi") == 1


def test_four_concurrent_builders_of_one_cache_return_the_same_complete_dataset(tmp_path):
    """Four processes on one cold cache: the old code crashed (Directory not empty), returned None or left a
    full orphaned copy. Now one builds while the others wait on its lock, and all four return its dataset."""
    root = tmp_path / "ds"
    for cls in ("A", "B"):
        (root / cls).mkdir(parents=True)
        for c in range(6):
            write_video(root / cls / f"v_{cls}_g01_c{c:02d}.avi", numbered_frames(30 + c, size=48))
    cache, go = tmp_path / "cache", tmp_path / "go"
    script = textwrap.dedent(f"""
        import hashlib, json, os, time
        import numpy as np
        import helpers.dataset as d
        builds, extract = [], d._extract
        d._extract = lambda *a, **k: builds.append(1) or extract(*a, **k)
        while not os.path.exists({str(go)!r}):  # start together
            time.sleep(0.01)
        features, labels, paths = d.create_dataset({str(root)!r}, num_frames=8, image_size=32,
                                                   cache_dir={str(cache)!r}, num_workers=1, progress=False)
        print(json.dumps([hashlib.sha256(np.ascontiguousarray(features)).hexdigest(), list(features.shape),
                          labels.tolist(), paths, len(builds)]))
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, cwd=Path(__file__).resolve().parents[1]) for _ in range(4)]
    time.sleep(1.0)  # let them all import
    go.touch()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
        results.append(json.loads(out))
    assert [r[:4] for r in results] == [results[0][:4]] * 4  # the same dataset everywhere
    assert results[0][1] == [12, 8, 32, 32, 3]
    assert sum(r[4] for r in results) == 1  # built once
    (entry,) = cache.iterdir()  # one complete entry: no orphaned copy, no lock file
    assert (entry / "meta.json").exists()
