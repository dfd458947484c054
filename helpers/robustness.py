"""Accuracy of a model on perturbed clips (notebook 05's ``robust_*`` columns; paper 002's "Robustness").

Paper 002 rates robustness "High" or "Medium" without a measurement; notebook 05 measures the held-out accuracy
after one of four deterministic perturbations of uint8 clips ``(num_clips, num_frames, height, width, 3)``:

* ``noise``: additive Gaussian noise, strength = its standard deviation in pixel units (0-255), independent per
  pixel and channel;
* ``blur``: Gaussian blur of every frame, strength = the kernel's sigma in pixels;
* ``brightness``: strength added to every pixel (negative darkens);
* ``dropped_frames``: a fraction strength of the frames is dropped and each replaced by the last kept frame before
  it (a stalled camera or lost packets; the first frame is always kept, so the clip keeps its shape).

Results are clipped to [0, 255] and rounded back to uint8. Random draws depend on the seed and the clip's index
only, so a clip is perturbed the same way whether the array is processed whole or in batches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import cv2
import keras
import numpy as np

from helpers.predictor import model_inputs

#: The perturbations, in the order of the table's columns.
KINDS: tuple[str, ...] = ("noise", "blur", "brightness", "dropped_frames")


def _clip_rng(seed: int, index: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), int(index)])


def _noise(clip: np.ndarray, strength: float, rng: np.random.Generator) -> np.ndarray:
    noise = rng.standard_normal(clip.shape, dtype=np.float32) * np.float32(strength)
    return np.clip(np.rint(clip.astype(np.float32) + noise), 0, 255).astype(np.uint8)


def _blur(clip: np.ndarray, strength: float, rng: np.random.Generator) -> np.ndarray:
    return np.stack([cv2.GaussianBlur(frame, (0, 0), sigmaX=float(strength), sigmaY=float(strength),
                                      borderType=cv2.BORDER_REFLECT_101) for frame in clip])


def _brightness(clip: np.ndarray, strength: float, rng: np.random.Generator) -> np.ndarray:
    return np.clip(clip.astype(np.int16) + int(round(strength)), 0, 255).astype(np.uint8)


def dropped_frame_indices(num_frames: int, *, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Which frame to show at each position when ``fraction`` of the frames are dropped.

    ``round(fraction * num_frames)`` frames (at most ``num_frames - 1``; never frame 0)
    are drawn without replacement; each is replaced by the last kept frame before it.

    Returns:
        int ``(num_frames,)``: source frame of every position (non-decreasing).
    """
    num_drop = min(int(round(fraction * num_frames)), num_frames - 1)
    source = np.arange(num_frames)
    if num_drop <= 0:
        return source
    dropped = np.zeros(num_frames, dtype=bool)
    dropped[1 + rng.choice(num_frames - 1, size=num_drop, replace=False)] = True
    kept = np.where(dropped, 0, source)
    return np.maximum.accumulate(kept)  # last kept index at or before each position


def _dropped_frames(clip: np.ndarray, strength: float, rng: np.random.Generator) -> np.ndarray:
    return clip[dropped_frame_indices(len(clip), fraction=float(strength), rng=rng)]


_PERTURBATIONS: dict[str, Callable[[np.ndarray, float, np.random.Generator], np.ndarray]] = {
    "noise": _noise, "blur": _blur, "brightness": _brightness, "dropped_frames": _dropped_frames,
}


def _check_strength(kind: str, strength: float) -> float:
    if kind not in _PERTURBATIONS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    strength = float(strength)
    if strength < 0 and kind != "brightness":
        raise ValueError(f"{kind} strength must be >= 0, got {strength}")
    if kind == "dropped_frames" and strength >= 1:
        raise ValueError(f"dropped_frames strength is a fraction in [0, 1), got {strength}")
    return strength


def _check_clips(clips: np.ndarray) -> np.ndarray:
    clips = np.asarray(clips)
    if clips.ndim != 5 or clips.dtype != np.uint8:
        raise ValueError(f"expected uint8 clips (num_clips, num_frames, height, width, 3), got {clips.dtype} "
                         f"{clips.shape}")
    return clips


def _perturb_range(clips: np.ndarray, *, kind: str, strength: float, seed: int, start: int) -> np.ndarray:
    """Perturb clips whose indices in the whole array start at ``start`` (for batching)."""
    fn = _PERTURBATIONS[kind]
    out = np.empty(clips.shape, dtype=np.uint8)
    for i, clip in enumerate(clips):
        clip = np.asarray(clip)
        out[i] = clip if strength == 0 else fn(clip, strength, _clip_rng(seed, start + i))
    return out


def perturb(clips: np.ndarray, *, kind: str, strength: float, seed: int = 27) -> np.ndarray:
    """A perturbed copy of uint8 clips; the input is never modified.

    Args:
        clips: uint8 ``(num_clips, num_frames, height, width, 3)`` (a read-only memmap is fine).
        kind: One of ``KINDS``: ``"noise"``, ``"blur"``, ``"brightness"``, ``"dropped_frames"``.
        strength: Noise sigma (pixel units), blur sigma (pixels), brightness shift (pixel
            units) or the fraction of frames dropped (in [0, 1)). 0 returns an exact copy.
        seed: Seed of the random draws (noise values, which frames are dropped); the same
            seed gives the same result.

    Returns:
        uint8, the same shape as ``clips``.
    """
    clips = _check_clips(clips)
    return _perturb_range(clips, kind=kind, strength=_check_strength(kind, strength), seed=seed, start=0)


def robustness_scores(model: keras.Model, features: np.ndarray, labels: np.ndarray, *,
                      strengths: Mapping[str, float], seed: int = 27, batch_size: int = 32,
                      inputs_fn: Callable[[np.ndarray], object] | None = None) -> dict[str, float]:
    """Accuracy of ``model`` under each perturbation, batch by batch (memory stays bounded).

    Args:
        model: A trained classifier with softmax outputs ``(batch, num_classes)``.
        features: uint8 clips ``(num_clips, num_frames, height, width, 3)``, e.g. the test split.
        labels: int ``(num_clips,)``.
        strengths: ``{kind: strength}``; only the kinds listed are scored (notebook 05's ``STRENGTHS``: all four).
        seed: Seed of the perturbations (the same for every model, so all see the same clips).
        batch_size: Clips perturbed and predicted at a time; does not change the result.
        inputs_fn: Maps a batch of perturbed clips to the model's inputs. None:
            :func:`helpers.predictor.model_inputs` (the clips, plus for a two-stream model the optical flow
            recomputed from the perturbed frames).

    Returns:
        ``{"robust_<kind>": accuracy}`` for each kind in ``strengths``, in ``KINDS`` order.
    """
    strengths = {kind: _check_strength(kind, strength) for kind, strength in strengths.items()}
    labels = np.asarray(labels, dtype=np.int64)
    if len(features) != len(labels):
        raise ValueError(f"{len(features)} clips but {len(labels)} labels")
    scores: dict[str, float] = {}
    for kind in (k for k in KINDS if k in strengths):
        correct = 0
        for start in range(0, len(labels), batch_size):
            batch = _perturb_range(_check_clips(features[start:start + batch_size]), kind=kind,
                                   strength=strengths[kind], seed=seed, start=start)
            inputs = inputs_fn(batch) if inputs_fn is not None else model_inputs(model, batch)
            probabilities = np.asarray(model.predict_on_batch(inputs))
            correct += int((probabilities.argmax(axis=-1) == labels[start:start + batch_size]).sum())
        scores[f"robust_{kind}"] = correct / len(labels) if len(labels) else float("nan")
    return scores
