"""Farnebäck optical flow: direction and units on a synthetic moving square, the cached flow dataset."""

from __future__ import annotations

import json

import numpy as np
import pytest

import helpers.flow as flow_module
from helpers.flow import FarnebackParams, create_flow_dataset, farneback_flow, flow_cache_key, flow_to_rgb


def _start(*, num_frames: int, size: int, step: tuple[int, int], square: int) -> tuple[int, int]:
    """Top-left corner of the square in frame 0, so that its path is centred in the frame."""
    centre = (size - square) // 2
    return centre - (num_frames - 1) * step[0] // 2, centre - (num_frames - 1) * step[1] // 2


def moving_square(*, num_frames: int = 6, size: int = 32, step: tuple[int, int] = (2, 0), square: int = 10,
                  seed: int = 0) -> np.ndarray:
    """A textured square moving ``step = (dx, dy)`` pixels per frame over a flat grey background.

    Returns:
        uint8 RGB ``(num_frames, size, size, 3)``.
    """
    texture = np.random.default_rng(seed).integers(90, 256, (square, square, 3), dtype=np.uint8)
    clip = np.full((num_frames, size, size, 3), 40, np.uint8)
    x0, y0 = _start(num_frames=num_frames, size=size, step=step, square=square)
    for t in range(num_frames):
        x, y = x0 + t * step[0], y0 + t * step[1]
        clip[t, y:y + square, x:x + square] = texture
    return clip


def square_flow(flow: np.ndarray, *, step: tuple[int, int], square: int = 10) -> np.ndarray:
    """Mean flow ``(dx, dy)`` over the inside of the square (2 px from its edges), over all frames."""
    x0, y0 = _start(num_frames=len(flow) + 1, size=flow.shape[1], step=step, square=square)
    inside = [flow[t, y0 + t * step[1] + 2:y0 + t * step[1] + square - 2,
                   x0 + t * step[0] + 2:x0 + t * step[0] + square - 2].reshape(-1, 2) for t in range(len(flow))]
    return np.concatenate(inside).mean(axis=0)


@pytest.mark.parametrize("step", [(2, 0), (-2, 0), (0, 2), (0, -1)])
def test_flow_of_a_moving_square_points_the_way_it_moves(step):
    clip = moving_square(step=step)
    flow = farneback_flow(clip)
    assert flow.shape == (5, 32, 32, 2) and flow.dtype == np.float32
    mean_dx, mean_dy = square_flow(flow, step=step)
    # units are pixels per frame, x to the right, y down
    assert mean_dx == pytest.approx(step[0], abs=0.3)
    assert mean_dy == pytest.approx(step[1], abs=0.3)


def test_still_clip_has_no_flow_and_bad_input_is_refused():
    still = np.repeat(moving_square(num_frames=1), 4, axis=0)
    np.testing.assert_allclose(farneback_flow(still), 0.0, atol=1e-3)
    with pytest.raises(ValueError, match="uint8 clip"):
        farneback_flow(still.astype(np.float32))
    with pytest.raises(ValueError, match="num_frames >= 2"):
        farneback_flow(still[:1])


def test_flow_to_rgb_codes_direction_as_hue_and_speed_as_brightness():
    # notebook 05 colours the flow it shows
    flow = np.zeros((2, 2, 2), np.float32)
    flow[0, 0] = (3.0, 0.0)  # rightward, the fastest: full-brightness red
    flow[0, 1] = (-1.5, 0.0)  # leftward at half speed: half-bright cyan
    rgb = flow_to_rgb(flow)
    assert rgb.shape == (2, 2, 3) and rgb.dtype == np.uint8
    assert tuple(rgb[0, 0]) == (255, 0, 0)
    assert rgb[0, 1, 0] == 0 and abs(int(rgb[0, 1, 1]) - 127) <= 1 and rgb[0, 1, 1] == rgb[0, 1, 2]
    assert tuple(rgb[1, 1]) == (0, 0, 0)  # no motion: black


def clips(n: int = 3) -> np.ndarray:
    """``n`` moving squares, each a different direction and texture: ``(n, 6, 32, 32, 3)``."""
    steps = [(2, 0), (0, 2), (-2, 0), (0, -2)]
    return np.stack([moving_square(step=steps[i % 4], seed=i) for i in range(n)])


def test_flow_dataset_matches_the_per_clip_flow():
    features = clips()
    flow = create_flow_dataset(features, num_workers=1, progress=False)
    assert flow.shape == (3, 5, 32, 32, 2) and flow.dtype == np.float16
    expected = np.stack([farneback_flow(clip) for clip in features])
    np.testing.assert_allclose(flow.astype(np.float32), expected, atol=2e-3, rtol=1e-3)  # float16 storage
    exact = create_flow_dataset(features, num_workers=1, progress=False, dtype="float32")
    np.testing.assert_array_equal(exact, expected)
    with pytest.raises(ValueError, match="dtype"):
        create_flow_dataset(features, dtype="int8")
    with pytest.raises(ValueError, match="uint8 clips"):
        create_flow_dataset(features[0])


def test_flow_dataset_in_parallel_equals_serial(tmp_path):
    features = clips(4)
    serial = create_flow_dataset(features, num_workers=1, progress=False)
    parallel = create_flow_dataset(features, cache_dir=tmp_path, num_workers=2, progress=False)
    assert isinstance(parallel, np.memmap)
    np.testing.assert_array_equal(np.asarray(parallel), serial)


def _no_flow(*args, **kwargs):
    raise AssertionError("flow recomputed although it is cached")


def test_flow_cache_is_reused_and_keyed_by_content_and_parameters(tmp_path, monkeypatch):
    features = clips()
    first = create_flow_dataset(features, cache_dir=tmp_path, num_workers=1, progress=False)
    assert isinstance(first, np.memmap) and not first.flags.writeable
    (entry,) = tmp_path.iterdir()
    assert entry.name == flow_cache_key(features, params=FarnebackParams(), dtype="float16")
    assert json.loads((entry / "meta.json").read_text())["shape"] == [3, 5, 32, 32, 2]

    monkeypatch.setattr(flow_module, "farneback_flow", _no_flow)
    again = create_flow_dataset(features.copy(), cache_dir=tmp_path, num_workers=1, progress=False)
    np.testing.assert_array_equal(again, first)  # same content, another array: cache hit

    changed = features.copy()
    changed[1, 2, 5, 5, 0] ^= 1  # one value of one pixel
    other_params = FarnebackParams(winsize=9)
    for kwargs in ({"features": changed}, {"features": features, "params": other_params},
                   {"features": features, "dtype": "float32"}):
        with pytest.raises(AssertionError, match="recomputed"):
            create_flow_dataset(cache_dir=tmp_path, num_workers=1, progress=False, **kwargs)
    assert [p.name for p in tmp_path.iterdir()] == [entry.name]  # failed runs left nothing behind


def test_flow_cache_is_atomic(tmp_path, monkeypatch):
    features = clips()
    calls = []

    def fail_on_third(clip, *, params=None):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("interrupted")
        return np.zeros((len(clip) - 1, *clip.shape[1:3], 2), np.float32)

    monkeypatch.setattr(flow_module, "farneback_flow", fail_on_third)
    with pytest.raises(RuntimeError, match="interrupted"):
        create_flow_dataset(features, cache_dir=tmp_path, num_workers=1, progress=False)
    assert list(tmp_path.iterdir()) == []  # no entry, no temporary folder

    monkeypatch.undo()
    entry = tmp_path / flow_cache_key(features, params=FarnebackParams(), dtype="float16")
    entry.mkdir()
    (entry / "flow.bin").write_bytes(b"\0" * 100)  # a half-written entry without its metadata
    flow = np.array(create_flow_dataset(features, cache_dir=tmp_path, num_workers=1, progress=False))
    assert np.abs(flow.astype(np.float32)).max() > 1  # recomputed, not the zeros on disk

    (entry / "flow.bin").write_bytes(b"\0" * 100)  # metadata present but the data cut short
    again = create_flow_dataset(features, cache_dir=tmp_path, num_workers=1, progress=False)
    np.testing.assert_array_equal(again, flow)
