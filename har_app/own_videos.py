"""Train a model on your own folder of class folders in one call (``python -m helpers train``, ``make train``).

:func:`train_folder` chains what the notebooks show step by step, with their code and settings: decode
(:func:`helpers.dataset.create_dataset`: progress bar, cache, undecodable files named in one line and
skipped) -> the honest group split (:func:`helpers.splits.protocol_split`: UCF ``_gNN_`` tags where
present, else each file its own group, stratified by class) -> a notebook's ``#@save`` builder and
training settings (:data:`RECIPES`) -> :func:`helpers.experiment.run_experiment` (EarlyStopping,
TensorBoard, BackupAndRestore: an interrupted run called again resumes) -> the held-out accuracy with its
Wilson interval, the per-class report and the confusion figure -> the model (with its class names), its
model card (``<model>.card.json`` and ``<model>.md``, :mod:`helpers.cards`) and the run's report
(``<model>.json``) in ``results/<dataset>/models/train/``, and a TFLite file if asked
(:func:`helpers.deploy.export_model`; its sidecar carries the card).

The function is the command: a notebook that calls it with the same arguments gets the same numbers
(seeded with :func:`helpers.config.set_seed`). TensorFlow and matplotlib are imported inside the
functions that use them, so the CLI's other sub-commands never load them through this module.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from dataclasses import dataclass

from helpers.config import SEED, project_paths, user_path

#: model -> (builder in :mod:`helpers.paper_models`, its extra arguments, epochs, batch size, patience, notebook):
#: the notebooks' config cells (tests/test_own_videos.py checks that they agree).
RECIPES = {
    "lrcn": ("build_lrcn", {}, 70, 4, 15, "01_lrcn"),
    "convlstm": ("build_convlstm", {}, 50, 4, 10, "02_convlstm"),
    "cnn": ("build_cnn", {}, 25, 8, 6, "03_cnn_rnn_hybrid"),
    "rnn": ("build_rnn", {}, 25, 8, 6, "03_cnn_rnn_hybrid"),
    "hybrid": ("build_hybrid", {"alpha": 0.7}, 25, 8, 6, "03_cnn_rnn_hybrid"),
}
#: A class needs a clip for training, one for validation (early stopping) and one for the test.
MIN_CLIPS = 3
PROTOCOL = ("group: whole recordings (UCF _gNN_ groups; a file without the tag is its own recording) held out "
            "for the test, and whole recordings of the rest for validation (early stopping), stratified by class")


@dataclass
class FolderRun:
    """What :func:`train_folder` trained, measured and wrote (``report["files"]``)."""

    model: object  # the trained keras.Model
    evaluation: object  # helpers.evaluation.Evaluation on the held-out clips
    report: dict  # the JSON report: data, split, settings, held-out accuracy and interval, per class, files


def _card(report: dict, *, run, data) -> dict:
    """The model card (:mod:`helpers.cards`): :func:`helpers.experiment.model_card`'s, told in this command's words
    (recordings, the notebook's settings, the per-class table, the run's report)."""
    import pandas as pd

    from helpers import cards
    from helpers.experiment import model_card
    from helpers.results import to_markdown

    cfg, n = report["settings"], len(report["classes"])
    card = model_card(run.model, data=data, split=run.split, held_out=run.evaluation)
    table = to_markdown(pd.DataFrame.from_dict(report["classes"], orient="index").rename_axis("class").reset_index(),
                        floatfmt=".3f")
    where = "the held-out recordings of this folder"
    return {
        **card,
        "trained_on": card["trained_on"].replace(" groups", " groups (recordings)"),
        "data": {**card["data"], "skipped": report["skipped"]},
        "description": (f"`{report['model']}` ({cfg['builder']}, the settings of notebook {cfg['notebook']}), "
                        f"{cfg['parameters']:,} parameters; input {cfg['num_frames']} frames of {cfg['image_size']}x"
                        f"{cfg['image_size']} RGB sampled over the whole video; {cfg['epochs_run']} of at most "
                        f"{cfg['epochs']} epochs (early stopping on validation loss, patience {cfg['patience']}), "
                        f"batch {cfg['batch_size']}, seed {cfg['seed']}"),
        "protocol": report["protocol"],
        "held_out": report["held_out"],
        "intended_use": (f"Telling these {n} actions apart in videos like those of this folder (same kind of camera, "
                         "scenes and people): `python -m helpers classify clip.mp4 --model "
                         f"{report['files']['model']}`."),
        "limits": [*cards.limits(embedded=card["data"]["embedded"], where=where),
                   "Clips cut from one recording must share a `_gNN_` tag, or the test leaks them."],
        "table": table,
    }


def train_folder(dataset_dir: str | os.PathLike, *, model: str = "lrcn", epochs: int | None = None,
                 num_frames: int = 20, image_size: int = 64, test_size: float = 0.25, val_size: float = 0.2,
                 seed: int = SEED, output: str | os.PathLike | None = None, export: str | None = None,
                 min_clips: int = MIN_CLIPS, progress: bool = True, verbose: int | str = 2) -> FolderRun:
    """Decode, split, train, evaluate and save a model of a folder of class folders (see the module's docstring).

    Args:
        dataset_dir: ``<dataset_dir>/<ClassName>/<videos>``; ``~`` and relative paths as typed
            (:func:`helpers.config.user_path`).
        model: A key of :data:`RECIPES`.
        epochs: Maximum epochs; None: the notebook's.
        num_frames, image_size: Sampling of every clip (the notebooks': 20 frames of 64x64).
        test_size, val_size: Shares of the recordings held out for the test and, of the rest, for validation.
        seed: Seed of the split, the weights and the shuffles.
        output: Folder of the model, card, report and figure; None: ``results/<dataset>/models/train``.
            Logs and backups go to ``results/<dataset>/logs`` and ``backup`` either way.
        export: ``"tflite"`` also writes ``<model>.tflite`` (float32) with its metadata.
        min_clips: Decodable clips a class needs; fewer stops the run with one line naming the class.
        progress: Show the decoding progress bar.
        verbose: Keras' ``fit`` verbosity.

    Returns:
        A :class:`FolderRun`.

    Raises:
        ValueError: Unknown model or export format, a class with too few clips, too few recordings to split.
        FileNotFoundError: The folder does not exist.
    """
    if model not in RECIPES:
        raise ValueError(f"unknown model {model!r}; choose from {', '.join(RECIPES)}")
    if export not in (None, "tflite"):
        raise ValueError(f"export must be 'tflite' or None, got {export!r}")
    import matplotlib.pyplot as plt

    from helpers import cards, models, paper_models
    from helpers.dataset import create_dataset, list_videos
    from helpers.experiment import ClipData, run_experiment
    from helpers.plots import plot_confusion_matrix, save_figure
    from helpers.results import write_json
    from helpers.splits import protocol_split
    from helpers.ucf import video_groups

    builder, options, default_epochs, batch_size, patience, notebook = RECIPES[model]
    epochs = default_epochs if epochs is None else epochs
    dataset_dir = user_path(dataset_dir)
    paths = project_paths(quick=False, dataset_dir=dataset_dir)  # as HAR_DATASET_DIR's notebooks: never results/
    results_dir = paths.results_dir
    out = user_path(output) if output is not None else paths.models_dir / "train"
    class_names, listed_paths, listed_labels = list_videos(dataset_dir)
    features, labels, clip_paths = create_dataset(dataset_dir, class_names=class_names, num_frames=num_frames,
                                                  image_size=image_size, cache_dir=paths.cache_dir,
                                                  progress=progress)
    skipped = sorted(set(map(str, listed_paths)) - set(clip_paths))
    few = [f"{name} has {(labels == i).sum()} of {(listed_labels == i).sum()}" for i, name in enumerate(class_names)
           if (labels == i).sum() < min_clips]
    if few:
        raise ValueError(f"{dataset_dir}: too few clips that could be decoded: {'; '.join(few)} (at least "
                         f"{min_clips} needed: training, validation and test); add clips to the folder or remove it")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        split = protocol_split(clip_paths, protocol="group", test_size=test_size, val_size=val_size, seed=seed)
    notes = list(dict.fromkeys(str(w.message) for w in caught))  # each once, in order
    for note in notes:
        print(f"note: {note}", file=sys.stderr)

    build = getattr(paper_models, builder)
    # run_experiment names the logs and the backup by a hash of the model, its settings and the split: an
    # interrupted run resumes, a changed one never picks up another's backup
    run = run_experiment(lambda: build(num_classes=len(class_names), num_frames=num_frames, image_size=image_size,
                                       class_names=class_names, **options),
                         features, labels, split, class_names=class_names, epochs=epochs, batch_size=batch_size,
                         patience=patience, seed=seed, verbose=verbose, results_dir=results_dir)
    ev = run.evaluation
    groups = video_groups(clip_paths, warn=False)
    model_path, figure_path = out / f"{model}.keras", out / f"{model}_confusion.png"
    export_path = out / f"{model}.tflite" if export == "tflite" else None
    report = {
        "model": model,
        "data": {"folder": str(dataset_dir), "clips": int(len(labels)), "groups": int(len(set(groups.tolist()))),
                 "listed": len(listed_paths)},
        "skipped": skipped,
        "notes": notes,
        "protocol": PROTOCOL,
        "split": {"train": int(len(split.train_idx)), "validation": int(len(split.val_idx)),
                  "test": int(len(split.test_idx)), "test_size": test_size, "val_size": val_size},
        "settings": {"builder": f"helpers.paper_models.{builder}", "options": options, "notebook": notebook,
                     "parameters": int(run.model.count_params()), "num_frames": num_frames, "image_size": image_size,
                     "epochs": epochs, "epochs_run": run.epochs_run, "batch_size": batch_size, "patience": patience,
                     "seed": seed},
        "held_out": {**cards.held_out(ev.y_true, ev.y_pred), "alpha": 0.05, "loss": ev.loss},
        "classes": {name: {"clips": int((labels == i).sum()),
                           "groups": int(len(set(groups[labels == i].tolist()))),
                           "test_clips": int((labels[split.test_idx] == i).sum()),
                           **{k: float(ev.per_class.loc[name, k]) for k in ("precision", "recall", "f1")}}
                    for i, name in enumerate(class_names)},
        "files": {"model": str(model_path), "card": str(cards.markdown_path(model_path)),
                  "card_json": str(cards.card_path(model_path)), "report": str(out / f"{model}.json"),
                  "confusion": str(figure_path), "export": str(export_path) if export_path else None,
                  "logs": str(results_dir / "logs")},
    }
    out.mkdir(parents=True, exist_ok=True)
    data = ClipData(features, labels, [str(p) for p in clip_paths], list(class_names), dataset_dir)
    models.save_model(run.model, model_path, class_names=class_names, card=_card(report, run=run, data=data))
    figure = plot_confusion_matrix(ev.confusion, class_names, title=f"{model} on {dataset_dir.name}: held-out clips")
    save_figure(figure, figure_path)
    plt.close(figure)
    if export_path is not None:
        from helpers.deploy import export_model

        export_model(run.model, export_path, format="tflite")  # its sidecar carries the card
    write_json(out / f"{model}.json", report)
    return FolderRun(run.model, ev, report)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _share(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return value


def add_parser(commands: argparse._SubParsersAction) -> None:
    """The ``train`` sub-command of ``python -m helpers``."""
    train = commands.add_parser("train", help="train a model on a folder of class folders",
                                description="Decode, split by recording, train, evaluate and save a model of a "
                                            "folder <FOLDER>/<ClassName>/<videos> (har_app.own_videos).")
    train.add_argument("folder", help="the folder of class folders")
    train.add_argument("--model", choices=list(RECIPES), default="lrcn", help="default: %(default)s")
    train.add_argument("--epochs", type=_positive_int, default=None, help="maximum epochs (default: the notebook's)")
    train.add_argument("--export", choices=("tflite",), default=None, help="also write a .tflite file")
    train.add_argument("--output", default=None,
                       help="folder of the model, card, report and figure (default: results/<dataset>/models/train)")
    train.add_argument("--num-frames", type=_positive_int, default=20, help="frames per clip (default: %(default)s)")
    train.add_argument("--image-size", type=_positive_int, default=64, help="frame side (default: %(default)s)")
    train.add_argument("--test-size", type=_share, default=0.25, help="share of recordings tested (default: 0.25)")
    train.add_argument("--seed", type=int, default=SEED, help="default: %(default)s")
    train.add_argument("--json", action="store_true", help="print the report as one JSON object")
    train.add_argument("--verbose", action="store_true", help="keep TensorFlow's native log lines and tracebacks")


def run(args: argparse.Namespace) -> dict:
    """Run ``train``; returns the report."""
    tty = sys.stderr.isatty()
    return train_folder(args.folder, model=args.model, epochs=args.epochs, num_frames=args.num_frames,
                        image_size=args.image_size, test_size=args.test_size, seed=args.seed, output=args.output,
                        export=args.export, progress=tty, verbose=1 if tty else 2).report


def print_text(report: dict) -> None:
    """The report in a few lines."""
    acc = report["held_out"]
    print(f"{report['model']}: held-out accuracy {acc['accuracy']:.3f} ({acc['correct']}/{acc['clips']} clips, "
          f"95% interval {acc['ci_low']:.3f}-{acc['ci_high']:.3f})")
    for key in ("model", "card", "report", "confusion", "export"):
        if report["files"][key]:
            print(f"  {key}: {report['files'][key]}")
