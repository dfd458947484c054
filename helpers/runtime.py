"""What classifying needs without TensorFlow: the model contract and the LiteRT runner of an exported file.

* :class:`ModelSpec`, :data:`CLIP_INPUT`, :data:`FLOW_INPUT`: what a model takes and predicts, shared by a
  Keras model (:func:`helpers.models.model_spec`) and an exported file's sidecar.
* :func:`read_metadata`: the sidecar ``<file>.json`` that :func:`helpers.deploy.export_model` writes, checked
  against its schema (types, required keys) and the file's SHA-256; :class:`TFLitePredictor` checks its frame
  count, image size and class count against the interpreter's input and output shapes before any video is
  decoded. Each mismatch is one line naming the key.
* :class:`TFLitePredictor` runs a ``.tflite`` file with ``ai_edge_litert`` (LiteRT, the interpreter without
  TensorFlow) behind the interface :mod:`helpers.inference` uses (``spec``, ``fast``, ``predict_clips``).

Nothing here imports TensorFlow, Keras or pandas: a small device needs numpy, av, opencv-python-headless
and ai-edge-litert (README, "Deployment").
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.flow import farneback_flow

#: Name of every model's uint8 clip input (the two-stream model also has :data:`FLOW_INPUT`).
CLIP_INPUT = "clip"
#: Name of the two-stream model's optical-flow input (notebook 05 builds that model; inference feeds
#: a saved one the flow it computes, ``(batch, num_frames - 1, image_size, image_size, 2)`` float).
FLOW_INPUT = "flow"
#: The sidecar's required keys and their types (``sha256`` is checked against the file, null for a folder).
METADATA_SCHEMA = {"format": str, "quantize": str, "model": str, "class_names": list, "num_frames": int,
                   "image_size": int, "inputs": list}
#: Optional keys: ``card``, the model card of the exported model (:mod:`helpers.cards`), whose ``trained_on`` is a
#: string or null.
OPTIONAL_METADATA = {"card": dict}


@dataclass(frozen=True)
class ModelSpec:
    """What a model expects and predicts."""

    class_names: tuple[str, ...]
    num_frames: int
    image_size: int


def metadata_path(path: str | os.PathLike) -> Path:
    """The sidecar JSON of an exported model: ``lrcn.tflite`` -> ``lrcn.tflite.json``."""
    return Path(f"{path}.json")


def file_sha256(path: Path) -> str | None:
    """SHA-256 of a file (None for a folder, e.g. a SavedModel); remembered while the file's size and time stay
    (classify reads a model's card and sidecar more than once)."""
    path = Path(path)
    if not path.is_file():
        return None
    stat = path.stat()
    return _sha256(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _check_schema(meta: object, meta_path: Path) -> dict:
    if not isinstance(meta, dict):
        raise ValueError(f"{meta_path}: metadata must be a JSON object, not {type(meta).__name__}")
    for key, kind in {**METADATA_SCHEMA, **OPTIONAL_METADATA}.items():
        if key not in meta and key in OPTIONAL_METADATA:
            continue
        if key not in meta:
            raise ValueError(f"{meta_path}: metadata key {key!r} is missing; export the model again")
        if not isinstance(meta[key], kind) or isinstance(meta[key], bool):  # JSON true is no frame count
            raise ValueError(f"{meta_path}: metadata key {key!r} must be a {kind.__name__}, "
                             f"not {type(meta[key]).__name__}")
    if not isinstance(meta.get("card", {}).get("trained_on", ""), str | None):
        raise ValueError(f"{meta_path}: metadata key 'card' must have a string or null 'trained_on'")
    for key in ("class_names", "inputs"):
        if not meta[key] or not all(isinstance(item, str) for item in meta[key]):
            raise ValueError(f"{meta_path}: metadata key {key!r} must be a non-empty list of strings")
    for key in ("num_frames", "image_size"):
        if meta[key] < 1:
            raise ValueError(f"{meta_path}: metadata key {key!r} must be >= 1, got {meta[key]}")
    return meta


def read_metadata(path: str | os.PathLike) -> dict:
    """The sidecar of an exported model, checked against its schema and the file (one-line errors naming the file
    and the key)."""
    path, meta_path = Path(path), metadata_path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: model file does not exist")
    if not meta_path.is_file():
        raise ValueError(f"{path}: no metadata {meta_path.name} beside it (class names, frames, image size); "
                         "export the model with `python -m helpers export`")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ValueError(f"{meta_path}: unreadable metadata ({type(err).__name__}: {err})") from err
    if isinstance(meta, dict) and meta.get("sha256") != file_sha256(path):
        raise ValueError(f"{meta_path}: describes another file than {path.name} (SHA-256 differs); export again")
    return _check_schema(meta, meta_path)


class TFLitePredictor:
    """A ``.tflite`` export run by the LiteRT interpreter, one clip per call (its signature has batch 1).

    Args:
        path: A file written by :func:`helpers.deploy.export_model` (its sidecar JSON beside it).
        num_threads: Interpreter threads. None: every core this process may use, as TensorFlow runs a
            Keras model (LiteRT's own default is one thread).

    Raises:
        ValueError: The sidecar is missing, malformed, describes another file, or disagrees with the
            interpreter's shapes (one line naming the key).
    """

    fast = False  # no per-frame fast path: inference feeds it whole windows

    def __init__(self, path: str | os.PathLike, *, num_threads: int | None = None):
        from ai_edge_litert.interpreter import Interpreter  # LiteRT: the interpreter alone, no Keras

        meta = read_metadata(path)
        self.path, self.inputs = Path(path), tuple(meta["inputs"])
        self.spec = ModelSpec(tuple(meta["class_names"]), meta["num_frames"], meta["image_size"])
        if num_threads is None:
            num_threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        self._interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
        self._check_shapes(metadata_path(path))
        self._interpreter.allocate_tensors()
        self._run = self._interpreter.get_signature_runner()

    def _check_shapes(self, meta_path: Path) -> None:
        """The sidecar against the interpreter's signature: input names, ``(1, num_frames, size, size, 3)``,
        ``(1, num_classes)``; before any tensor is allocated or video decoded."""
        (signature,) = self._interpreter.get_signature_list().values()
        if set(signature["inputs"]) != set(self.inputs):
            raise ValueError(f"{meta_path}: metadata key 'inputs' says {list(self.inputs)}, the file takes "
                             f"{sorted(signature['inputs'])}")
        runner = self._interpreter.get_signature_runner()
        shape = tuple(int(d) for d in runner.get_input_details()[self.inputs[0]]["shape"])
        (output,) = runner.get_output_details().values()
        spec = self.spec
        for key, meta_value, file_value in (("num_frames", spec.num_frames, shape[1]),
                                            ("image_size", spec.image_size, shape[2]),
                                            ("class_names", len(spec.class_names), int(output["shape"][-1]))):
            if meta_value != file_value:
                what = "names" if key == "class_names" else "is"
                raise ValueError(f"{meta_path}: metadata key {key!r} {what} {meta_value}, but the model file's "
                                 f"{'output' if key == 'class_names' else 'input'} shape says {file_value} "
                                 f"(input {shape}, output {tuple(output['shape'])})")

    def predict_clips(self, clips: np.ndarray) -> np.ndarray:
        """uint8 ``(batch, num_frames, size, size, 3)`` -> ``(batch, num_classes)`` probabilities."""
        out = []
        for clip in np.asarray(clips, dtype=np.uint8):
            feed = {self.inputs[0]: clip[None]}
            if FLOW_INPUT in self.inputs:
                feed[FLOW_INPUT] = farneback_flow(clip)[None]
            self._interpreter.reset_all_variables()  # the fused LSTM keeps its state between calls: start at zero
            out.append(next(iter(self._run(**feed).values()))[0])
        return np.stack(out).astype(np.float32) if out else np.empty((0, len(self.spec.class_names)), np.float32)
