"""The embedded default dataset: procedural human-action-like videos in UCF50 layout.

UCF50/UCF101 cannot be downloaded at run time, so every notebook runs by default on
videos rendered here with ``cv2.VideoWriter`` and laid out exactly like UCF50::

    <root>/<ClassName>/v_<ClassName>_g<NN>_c<NN>.avi

A stick-figure actor performs one of eight actions in front of a textured background.
Two pairs of classes are exact time-reversals of each other (``SitDown``/``StandUp``
and ``ZoomIn``/``ZoomOut``): the frames of a ``StandUp`` clip are drawn from the same
distribution as those of a ``SitDown`` clip, only their order differs, so a model that
ignores frame order cannot separate them.

Like UCF50, clips of one group (``gNN``) share their background and actor appearance:
they are cut from the "same long video". A clip-level random split therefore leaks
appearance between train and test; a group-wise split does not.
"""

from __future__ import annotations

import json
import math
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm.auto import tqdm

from helpers.atomic import OWNED_MARKER, atomic_write
from helpers.parallel import parallel_map

#: Every class of the embedded dataset, sorted. Value: (motion, time-reversed?).
ACTIONS: dict[str, tuple[str, bool]] = {
    "Clapping": ("clap", False),
    "Jumping": ("jump", False),
    "SitDown": ("sit", False),
    "StandUp": ("sit", True),
    "Walking": ("walk", False),
    "Waving": ("wave", False),
    "ZoomIn": ("zoom", False),
    "ZoomOut": ("zoom", True),
}
#: Pairs of classes whose clips are time-reversals of each other.
REVERSED_PAIRS: tuple[tuple[str, str], ...] = (("SitDown", "StandUp"), ("ZoomIn", "ZoomOut"))
CLASS_NAMES: tuple[str, ...] = tuple(sorted(ACTIONS))
_COMPLETE_MARKER = ".complete"
#: Bump when rendering changes, so datasets rendered by older code are re-rendered.
GENERATOR_VERSION = 4
#: Saturated BGR colours for actors; they stand out from the muted grey scenery.
_PALETTE: tuple[tuple[int, int, int], ...] = (
    (40, 40, 220), (40, 200, 40), (220, 60, 40), (0, 200, 230), (200, 40, 200),
    (230, 200, 0), (20, 20, 20), (245, 245, 245), (0, 130, 255), (140, 0, 90),
)


@dataclass(frozen=True)
class _Appearance:
    """What every clip of one (class, group) shares: the 'same long video'."""

    background: np.ndarray  # (height, width, 3) uint8 BGR
    body_color: tuple[int, int, int]
    head_color: tuple[int, int, int]
    thickness: int
    chair_color: tuple[int, int, int]


def _rng(*keys: object) -> np.random.Generator:
    """A generator seeded from a tuple of keys: stable across runs and processes."""
    return np.random.default_rng([zlib.crc32(repr(k).encode()) for k in keys])


def _make_appearance(rng: np.random.Generator, width: int, height: int) -> _Appearance:
    # muted scenery: a tinted grey gradient, so the actor (drawn far from it in colour) stands out
    gray = rng.uniform(60, 190)
    c0, c1 = gray + rng.uniform(-30, 30, size=(2, 3))
    ramp = np.linspace(0.0, 1.0, width if rng.random() < 0.5 else height, dtype=np.float32)
    grad = ramp[None, :, None] if ramp.size == width else ramp[:, None, None]
    background = (c0 * (1 - grad) + c1 * grad) * np.ones((height, width, 1), np.float32)
    scenery = background.copy()
    for _ in range(rng.integers(4, 10)):  # a few blurred blobs as "scenery"
        color = (gray + rng.uniform(-45, 45, size=3)).tolist()
        center = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        if rng.random() < 0.5:
            cv2.circle(scenery, center, int(rng.integers(5, 30)), color, -1)
        else:
            size = rng.integers(8, 50, size=2)
            cv2.rectangle(scenery, center, (center[0] + int(size[0]), center[1] + int(size[1])), color, -1)
    # scenery is half-transparent: present, but less salient than the actor
    background = cv2.GaussianBlur(0.65 * background + 0.35 * scenery, (0, 0), 2.0)
    background = np.clip(background, 0, 255).astype(np.uint8)

    # actor colours come from one palette shared by every class: colour says nothing about the
    # action, so a model has to look at the pose; the group still fixes who the actor is
    body, head, chair = rng.choice(len(_PALETTE), size=3, replace=False)
    return _Appearance(background, _PALETTE[body], _PALETTE[head], int(rng.integers(6, 10)), _PALETTE[chair])


def _limb(origin: np.ndarray, length: float, angle: float) -> np.ndarray:
    """End point of a limb of ``length`` at ``angle`` radians from straight down."""
    return origin + length * np.array([math.sin(angle), math.cos(angle)])


def _pose(motion: str, tau: float, params: dict) -> dict:
    """Joint angles and offsets of the actor at normalised time ``tau`` in [0, 1]."""
    cycles, phase = params["cycles"], params["phase"]
    wave = math.sin(2 * math.pi * (cycles * tau + phase))
    sway = 0.03 * math.sin(2 * math.pi * (0.7 * tau + phase))
    pose = {
        "dx": sway, "dy": 0.0, "sit": 0.0, "zoom": 1.0,
        "arm_l": (0.25, 0.1), "arm_r": (-0.25, -0.1), "leg_l": 0.12, "leg_r": -0.12,
    }
    if motion == "wave":  # both arms raised above the head, forearms swinging side to side
        pose["arm_l"], pose["arm_r"] = (2.5, 2.5 + 0.9 * wave), (-2.5, -2.5 + 0.9 * wave)
    elif motion == "clap":  # elbows out at chest height; the forearms swing in until the hands meet in front
        close = 0.5 + 0.5 * wave
        forearm = 0.6 - 2.45 * close  # 0.6: hanging down and out; -1.85: across the chest, hands together
        pose["arm_l"], pose["arm_r"] = (1.1, forearm), (-1.1, -forearm)
    elif motion == "jump":
        air = abs(math.sin(math.pi * (cycles * tau + phase)))
        pose["dy"] = -0.4 * air  # the whole body travels; arms stay low, legs spread in the air
        pose["arm_l"], pose["arm_r"] = (0.5 + 0.3 * air, 0.5 + 0.3 * air), (-0.5 - 0.3 * air, -0.5 - 0.3 * air)
        pose["leg_l"], pose["leg_r"] = 0.12 + 0.35 * air, -0.12 - 0.35 * air
    elif motion == "walk":
        pose["dx"] = params["direction"] * (tau - 0.5) * params["travel"]
        pose["leg_l"], pose["leg_r"] = 0.45 * wave, -0.45 * wave
        pose["arm_l"], pose["arm_r"] = (-0.4 * wave, -0.4 * wave), (0.4 * wave, 0.4 * wave)
    elif motion == "sit":  # hold, move, hold: the transition sits inside [start, end]
        start, end = params["window"]
        x = min(max((tau - start) / (end - start), 0.0), 1.0)
        pose["sit"] = x * x * (3 - 2 * x)  # smoothstep
    elif motion == "zoom":
        start, end = params["window"]
        x = min(max((tau - start) / (end - start), 0.0), 1.0)
        pose["zoom"] = 1.0 + (params["zoom_to"] - 1.0) * x * x * (3 - 2 * x)
    return pose


def _draw_actor(img: np.ndarray, pose: dict, *, cx: float, ground: float, scale: float, look: _Appearance) -> None:
    """Draw the stick figure in place. ``scale`` is the standing height in pixels."""
    sit = pose["sit"]
    base = np.array([cx + pose["dx"] * scale, ground + pose["dy"] * scale])
    hip = base + scale * np.array([-0.08 * sit, -0.5 + 0.22 * sit])
    neck = hip + scale * np.array([0.04 * sit, -0.36])
    head = neck + scale * np.array([0.0, -0.1])
    thick = look.thickness

    def pt(p: np.ndarray) -> tuple[int, int]:
        return int(round(p[0])), int(round(p[1]))

    for side, leg_angle in ((1, pose["leg_l"]), (-1, pose["leg_r"])):
        # sitting bends the thigh forward (horizontal) and keeps the shin vertical
        thigh_angle = leg_angle * (1 - sit) + side * 1.45 * sit
        knee = _limb(hip, 0.26 * scale, thigh_angle)
        foot = _limb(knee, 0.26 * scale, leg_angle * (1 - sit) * 0.5)
        cv2.line(img, pt(hip), pt(knee), look.body_color, thick, cv2.LINE_AA)
        cv2.line(img, pt(knee), pt(foot), look.body_color, thick, cv2.LINE_AA)
    cv2.line(img, pt(hip), pt(neck), look.body_color, thick + 1, cv2.LINE_AA)
    shoulder = neck + scale * np.array([0.0, 0.04])
    for upper, lower in (pose["arm_l"], pose["arm_r"]):
        elbow = _limb(shoulder, 0.17 * scale, upper)
        hand = _limb(elbow, 0.16 * scale, lower)
        cv2.line(img, pt(shoulder), pt(elbow), look.body_color, thick, cv2.LINE_AA)
        cv2.line(img, pt(elbow), pt(hand), look.body_color, thick, cv2.LINE_AA)
    cv2.circle(img, pt(head), max(4, int(0.1 * scale)), look.head_color, -1, cv2.LINE_AA)


def _render_clip(path: Path, *, motion: str, reverse: bool, look: _Appearance, rng: np.random.Generator,
                 num_frames: int, fps: float, fourcc: str) -> None:
    """Render one clip to ``path`` with cv2.VideoWriter."""
    height, width = look.background.shape[:2]
    params = {
        "cycles": float(rng.uniform(1.5, 3.5)),  # speed of periodic motions
        "phase": float(rng.uniform(0, 1)),
        "direction": float(rng.choice([-1.0, 1.0])),
        "travel": float(rng.uniform(0.8, 1.4)),
        "window": sorted(rng.uniform(0.05, 0.95, size=2).tolist()),
        "zoom_to": float(rng.uniform(2.0, 2.6)),
    }
    if params["window"][1] - params["window"][0] < 0.5:  # a visible transition, never a jump
        params["window"] = [0.25 + 0.1 * rng.random() - 0.1, 0.75 + 0.1 * rng.random()]
    scale = float(rng.uniform(0.55, 0.8)) * height
    cx = float(rng.uniform(0.35, 0.65)) * width
    ground = float(rng.uniform(0.85, 0.95)) * height
    noise_sigma = float(rng.uniform(0.0, 4.0))
    jitter = float(rng.uniform(0.0, 1.5))
    zoom_center = (cx + rng.uniform(-10, 10), ground - 0.5 * scale)
    chair = motion == "sit"

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"{path}: cv2.VideoWriter could not open codec {fourcc!r}")
    try:
        for i in range(num_frames):
            t = i / (num_frames - 1)
            pose = _pose(motion, 1.0 - t if reverse else t, params)
            frame = look.background.copy()
            if chair:  # the seat the actor sits on; same place in SitDown and StandUp
                seat = (int(cx - 0.2 * scale), int(ground - 0.3 * scale))
                cv2.rectangle(frame, seat, (int(cx + 0.02 * scale), int(ground)), look.chair_color, 2)
            _draw_actor(frame, pose, cx=cx, ground=ground, scale=scale, look=look)
            # camera: zoom about the actor plus a little hand-held jitter, one affine warp
            z = pose["zoom"]
            shift = rng.normal(0.0, jitter, size=2) if jitter > 0 else np.zeros(2)
            matrix = np.array([[z, 0, (1 - z) * zoom_center[0] + shift[0]],
                               [0, z, (1 - z) * zoom_center[1] + shift[1]]], np.float32)
            frame = cv2.warpAffine(frame, matrix, (width, height), borderMode=cv2.BORDER_REFLECT)
            if noise_sigma > 0:
                noise = rng.normal(0.0, noise_sigma, size=frame.shape).astype(np.float32)
                frame = np.clip(frame + noise, 0, 255).astype(np.uint8)
            writer.write(frame)
    finally:
        writer.release()


def _render_job(job: tuple) -> None:
    """Render one clip; every random draw is keyed by (seed, class, group, clip)."""
    root, name, group, clip, seed, (width, height), fps, fourcc, min_frames, max_frames = job
    look = _make_appearance(_rng(seed, name, group), width, height)
    clip_rng = _rng(seed, name, group, clip)
    motion, reverse = ACTIONS[name]
    _render_clip(
        root / name / f"v_{name}_g{group:02d}_c{clip:02d}.avi",
        motion=motion, reverse=reverse, look=look, rng=clip_rng,
        num_frames=int(clip_rng.integers(min_frames, max_frames + 1)), fps=fps, fourcc=fourcc,
    )


def _pick_fourcc() -> str:
    """XVID (what UCF50 uses) when this OpenCV build can write it, else MJPG."""
    probe = Path(os.environ.get("TMPDIR", "/tmp")) / f"fourcc_probe_{os.getpid()}.avi"
    try:
        writer = cv2.VideoWriter(str(probe), cv2.VideoWriter_fourcc(*"XVID"), 25, (32, 32))
        ok = writer.isOpened()
        writer.release()
    finally:
        probe.unlink(missing_ok=True)
    return "XVID" if ok else "MJPG"


def generate_dataset(
    out_dir: str | os.PathLike,
    *,
    seed: int = 27,
    class_names: tuple[str, ...] | list[str] = CLASS_NAMES,
    num_groups: int = 40,
    clips_per_group: int = 2,
    frame_size: tuple[int, int] = (160, 120),
    fps: float = 25.0,
    min_frames: int = 40,
    max_frames: int = 90,
    overwrite: bool = False,
    num_workers: int | None = None,
    progress: bool = True,
) -> Path:
    """Render the embedded dataset in UCF50 layout and return its root folder.

    Deterministic for a given ``seed``. The folder is written under a temporary name
    and renamed when complete, so an interrupted run never leaves a half dataset that
    looks finished. A complete folder rendered with the same settings and generator version
    is returned as is (unless ``overwrite``); one rendered differently is re-rendered.

    Args:
        out_dir: Root folder to create (``<out_dir>/<ClassName>/v_<ClassName>_gNN_cNN.avi``).
        seed: Seed of everything random (appearance, motion, noise).
        class_names: Subset of :data:`CLASS_NAMES` to render.
        num_groups: Groups per class (``g01`` ..); clips of a group share appearance.
            Generalising to unseen groups is what the honest (group-wise) split measures,
            and it takes many training groups: in trials the LRCN's group-split accuracy
            rose steadily from 20 x 3 to 30 x 2 to 40 x 2 clips per class. (UCF50 has 25
            groups of 4-7 clips per class, about 130 clips.)
        clips_per_group: Clips per group (``c01`` ..); at least 2 so that the paper's
            clip-level split has a group to leak.
        frame_size: (width, height) of the videos.
        fps: Frame rate written in the container.
        min_frames, max_frames: Range of clip lengths, in frames.
        overwrite: Re-render even if a complete dataset is already there.
        num_workers: Processes; None means one per core. Output does not depend on it.
        progress: Show a tqdm progress bar.

    Returns:
        The dataset root ``Path``.
    """
    out_dir = Path(out_dir)
    unknown = sorted(set(class_names) - set(ACTIONS))
    if unknown:
        raise ValueError(f"unknown class names {unknown}; choose from {list(CLASS_NAMES)}")
    if min_frames < 2 or max_frames < min_frames:
        raise ValueError(f"need 2 <= min_frames <= max_frames, got {min_frames}, {max_frames}")
    fourcc = _pick_fourcc()
    stamp = json.dumps({"version": GENERATOR_VERSION, "seed": seed, "class_names": sorted(class_names),
                        "num_groups": num_groups, "clips_per_group": clips_per_group,
                        "frame_size": list(frame_size), "fps": fps, "min_frames": min_frames,
                        "max_frames": max_frames, "fourcc": fourcc}, sort_keys=True)
    marker = out_dir / _COMPLETE_MARKER
    if marker.exists() and not overwrite and marker.read_text().strip() == stamp:
        return out_dir  # already rendered with exactly these settings
    if marker.exists():  # rendered here before helpers.atomic marked the folders it writes: replaceable
        (out_dir / OWNED_MARKER).touch()

    with atomic_write(out_dir, directory=True) as tmp_dir:  # also removes what killed runs left
        for name in class_names:
            (tmp_dir / name).mkdir(parents=True, exist_ok=True)
        jobs = [(tmp_dir, name, g, c, seed, frame_size, fps, fourcc, min_frames, max_frames)
                for name in sorted(class_names) for g in range(1, num_groups + 1)
                for c in range(1, clips_per_group + 1)]
        workers = min(num_workers or os.cpu_count() or 1, len(jobs))
        with parallel_map(_render_job, jobs, operation="generate_dataset", num_workers=workers, ordered=False,
                          chunksize=4) as results:
            for _ in tqdm(results, total=len(jobs), desc="Rendering embedded dataset", unit="clip",
                          disable=not progress):
                pass
        (tmp_dir / _COMPLETE_MARKER).write_text(stamp + "\n")
    return out_dir


def rendered_version(dataset_dir: str | os.PathLike | None) -> int | None:
    """The :data:`GENERATOR_VERSION` that rendered a complete embedded dataset (read from its
    completion marker); None when the folder, or its marker, is not there."""
    try:
        return int(json.loads((Path(dataset_dir) / _COMPLETE_MARKER).read_text())["version"])
    except (TypeError, OSError, ValueError, KeyError):
        return None


def embedded_settings(*, quick: bool = False) -> dict:
    """Keyword arguments of :func:`generate_dataset` for the full or the quick (CI) profile."""
    if quick:
        return {"num_groups": 4, "clips_per_group": 2, "min_frames": 24, "max_frames": 40}
    return {}
