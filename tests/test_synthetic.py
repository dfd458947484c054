"""The embedded dataset: layout, determinism, reversed pairs."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from helpers.data import frame_extraction, list_videos, video_group
from helpers.synthetic import (
    CLASS_NAMES,
    REVERSED_PAIRS,
    _limb,
    _make_appearance,
    _pose,
    _render_clip,
    _rng,
    generate_dataset,
)


def test_layout_is_ucf50(tiny_dataset):
    names, paths, labels = list_videos(tiny_dataset)
    assert names == ["Jumping", "SitDown", "StandUp"]
    assert len(paths) == 3 * 3 * 2
    for path in paths:
        assert path.name.startswith(f"v_{path.parent.name}_g") and path.suffix == ".avi"
    assert {video_group(p) for p in paths} == {1, 2, 3}


def test_at_least_six_classes_and_two_reversed_pairs():
    assert len(CLASS_NAMES) >= 6 and len(REVERSED_PAIRS) >= 2
    for a, b in REVERSED_PAIRS:
        assert a in CLASS_NAMES and b in CLASS_NAMES


def _digest(root):
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.avi")):
        h.update(p.read_bytes())
    return h.hexdigest()


def test_deterministic_for_a_seed(tmp_path):
    kwargs = dict(class_names=("Waving",), num_groups=2, clips_per_group=1, frame_size=(48, 32),
                  min_frames=8, max_frames=10, progress=False)
    a = generate_dataset(tmp_path / "a", seed=3, num_workers=1, **kwargs)
    b = generate_dataset(tmp_path / "b", seed=3, num_workers=2, **kwargs)
    c = generate_dataset(tmp_path / "c", seed=4, num_workers=1, **kwargs)
    assert _digest(a) == _digest(b) != _digest(c)


def test_complete_dataset_is_reused_only_with_the_same_settings(tmp_path):
    kwargs = dict(class_names=("Jumping",), num_groups=1, clips_per_group=1, frame_size=(48, 32), min_frames=8,
                  max_frames=8, progress=False, num_workers=1)
    root = generate_dataset(tmp_path / "d", **kwargs)
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*.avi")}
    generate_dataset(root, **kwargs)
    assert before == {p: p.stat().st_mtime_ns for p in root.rglob("*.avi")}
    generate_dataset(root, **{**kwargs, "max_frames": 9})  # other settings: rendered again
    assert before != {p: p.stat().st_mtime_ns for p in root.rglob("*.avi")}


@pytest.mark.parametrize("motion", ["sit", "zoom"])
def test_reversed_class_is_the_forward_clip_played_backwards(tmp_path, motion):
    """Same appearance and random draws: the reversed clip's frame i matches the forward clip's frame n-1-i."""
    look = _make_appearance(_rng(1, "pair"), 80, 60)
    clips = {}
    for reverse in (False, True):
        path = tmp_path / f"{motion}_{reverse}.avi"
        _render_clip(path, motion=motion, reverse=reverse, look=look, rng=_rng(1, "clip"), num_frames=24,
                     fps=25, fourcc="MJPG")
        clips[reverse] = frame_extraction(path, num_frames=24, image_size=40).astype(float)
    forward, backward = clips[False], clips[True]
    as_reversed = np.abs(backward - forward[::-1]).mean()
    as_is = np.abs(backward - forward).mean()
    assert as_reversed < 0.5 * as_is, (as_reversed, as_is)


def _hands(motion: str, tau: float) -> tuple[np.ndarray, np.ndarray]:
    """Hand positions (x right, y down) of a unit-height actor whose shoulders are at (0, 0)."""
    pose = _pose(motion, tau, {"cycles": 1.0, "phase": 0.0})
    hands = []
    for upper, lower in (pose["arm_l"], pose["arm_r"]):
        hands.append(_limb(_limb(np.zeros(2), 0.17, upper), 0.16, lower))
    return hands[0], hands[1]


def test_clapping_hands_meet_in_front_of_the_chest_and_waving_hands_stay_above_the_head():
    # phase 0, one cycle: sin(2 pi tau) is 1 at tau 0.25 (hands together) and -1 at 0.75 (apart)
    left, right = _hands("clap", 0.25)
    assert abs(left[0] - right[0]) < 0.03, "clapping hands meet"
    assert 0.0 < left[1] < 0.26 and 0.0 < right[1] < 0.26, "at chest height: below the shoulders, above the hip"
    left, right = _hands("clap", 0.75)
    assert abs(left[0] - right[0]) > 0.3, "and part again"
    for tau in np.linspace(0, 1, 9):
        left, right = _hands("wave", tau)
        assert left[1] < -0.1 and right[1] < -0.1, "waving hands stay above the shoulders"


def test_a_dataset_rendered_before_folders_were_marked_is_still_rerendered(tmp_path):
    """helpers.atomic replaces only folders it marked; an older render (its .complete marker, no atomic marker)
    is the embedded dataset's own and is re-rendered when the settings change, while a user's folder never is."""
    from helpers.atomic import OWNED_MARKER, RefusedTarget

    root = tmp_path / "ucf"
    settings = dict(class_names=["Clapping"], num_groups=1, clips_per_group=1, min_frames=4, max_frames=5,
                    num_workers=1, progress=False)
    generate_dataset(root, seed=0, **settings)
    (root / OWNED_MARKER).unlink()  # as rendered by an older version
    generate_dataset(root, seed=1, **settings)
    assert "\"seed\": 1" in (root / ".complete").read_text()
    users = tmp_path / "mine"
    users.mkdir()
    (users / "notes.txt").write_text("keep")
    with pytest.raises(RefusedTarget, match="not written here"):
        generate_dataset(users, seed=0, **settings)
    assert (users / "notes.txt").read_text() == "keep"


def test_make_embedded_command_line_renders_the_profile_s_settings(tmp_path, monkeypatch, capsys):
    """``python scripts/embedded.py OUT [--quick] [--seed N] [--overwrite]`` (``make embedded``): the profile's
    settings reach generate_dataset; a missing folder is a usage error (exit 2)."""
    from helpers.synthetic import embedded_settings
    from scripts import embedded

    calls = []
    monkeypatch.setattr(embedded, "generate_dataset", lambda out, **kw: calls.append((out, kw)) or tmp_path)
    embedded.main([str(tmp_path / "e"), "--quick", "--seed", "5"])
    assert calls == [(str(tmp_path / "e"), {"seed": 5, "overwrite": False, **embedded_settings(quick=True)})]
    assert "embedded dataset ready" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        embedded.main([])
    assert exit_info.value.code == 2
