"""train / make_dataset / evaluate / run_experiment on tiny data."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from helpers.config import set_seed
from helpers.data import create_dataset, video_group
from helpers.evaluation import confusion_matrix, evaluate, per_class_report
from helpers.experiment import protocol_split, run_experiment
from helpers.paper_models import build_lrcn
from helpers.training import make_dataset, run_folders, train


def _toy_clips(n=24, frames=4, size=64, seed=0):
    """Class 0: dark clips, class 1: bright clips; learnable in a few steps."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    base = np.where(labels[:, None, None, None, None] == 1, 200, 40)
    clips = np.clip(base + rng.integers(-30, 30, (n, frames, size, size, 3)), 0, 255).astype(np.uint8)
    return clips, labels


def test_make_dataset_batches_one_hot_and_shuffles_only_when_asked():
    clips, labels = _toy_clips(n=10)
    ds = make_dataset(clips, labels, num_classes=2, batch_size=4)
    batches = list(ds.as_numpy_iterator())
    assert [b[0].shape[0] for b in batches] == [4, 4, 2]
    x, y = batches[0]
    assert x.dtype == np.uint8 and y.shape == (4, 2)
    np.testing.assert_array_equal(y.argmax(1), labels[:4])
    np.testing.assert_array_equal(x, clips[:4])
    with pytest.raises(ValueError, match="class count"):
        make_dataset(clips, labels + 5, num_classes=2, batch_size=4)


def test_flip_augmentation_mirrors_whole_clips_repeatably():
    rng = np.random.default_rng(3)
    clips = rng.integers(0, 255, (64, 3, 4, 5, 3), dtype=np.uint8)  # width 5: a flip is never a no-op
    labels = np.arange(64) % 2

    def epoch(seed: int) -> tuple[np.ndarray, np.ndarray]:
        batches = list(make_dataset(clips, labels, num_classes=2, batch_size=8, augment="flip",
                                    seed=seed).as_numpy_iterator())
        return np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])

    x, y = epoch(0)
    np.testing.assert_array_equal(y.argmax(1), labels)  # labels untouched, order kept (no shuffle)
    same = np.all(x == clips, axis=(1, 2, 3, 4))
    mirrored = np.all(x == clips[:, :, :, ::-1], axis=(1, 2, 3, 4))  # every frame of the clip alike
    assert np.all(same ^ mirrored)
    assert 16 <= mirrored.sum() <= 48  # about half
    np.testing.assert_array_equal(epoch(0)[0], x)  # repeatable
    assert not np.array_equal(epoch(1)[0], x)  # the seed matters
    with pytest.raises(ValueError, match="augment"):
        make_dataset(clips, labels, num_classes=2, batch_size=8, augment="rotate")
    with pytest.raises(ValueError, match="single-input"):
        make_dataset({"clip": clips, "flow": clips}, labels, num_classes=2, batch_size=8, augment="flip")


def test_tiny_training_run_lowers_the_loss(tmp_path):
    clips, labels = _toy_clips()
    set_seed(0)
    history = train(build_lrcn(num_classes=2, num_frames=4), (clips, labels), validation_data=(clips[:8], labels[:8]),
                    epochs=4, batch_size=4, patience=10, learning_rate=3e-3,
                    checkpoint_path=tmp_path / "best.keras", verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < losses[0]
    assert (tmp_path / "best.keras").exists()


def test_evaluate_reports_paper_numbers_and_more():
    clips, labels = _toy_clips(n=12)
    model = build_lrcn(num_classes=2, num_frames=4)
    result = evaluate(model, (clips, labels), batch_size=4, class_names=["dark", "bright"])
    assert result.steps == 3 and result.ms_per_step > 0
    assert 0 <= result.accuracy <= 1 and result.loss > 0
    assert result.confusion.sum() == 12
    assert list(result.per_class.index) == ["dark", "bright"]
    assert result.accuracy == pytest.approx(float((result.y_pred == labels).mean()), abs=1e-6)


def test_confusion_and_per_class_report_by_hand():
    matrix = confusion_matrix(np.array([0, 0, 1, 1, 2]), np.array([0, 1, 1, 1, 0]), num_classes=3)
    np.testing.assert_array_equal(matrix, [[1, 1, 0], [0, 2, 0], [1, 0, 0]])
    report = per_class_report(matrix, ["a", "b", "c"])
    assert report.loc["b", "precision"] == pytest.approx(2 / 3)
    assert report.loc["a", "recall"] == pytest.approx(0.5)
    assert report.loc["c", "f1"] == 0


@pytest.mark.parametrize("protocol", ["random_clip", "group"])
def test_protocol_splits_cover_the_data(tiny_dataset, protocol):
    _, _, paths = create_dataset(tiny_dataset, num_frames=8, image_size=16, num_workers=1, progress=False)
    split = protocol_split(paths, protocol=protocol, test_size=0.34, val_size=0.5, seed=1)
    everything = np.concatenate([split.train_idx, split.val_idx, split.test_idx])
    assert sorted(everything) == list(range(len(paths)))
    if protocol == "group":
        groups = [{video_group(paths[i]) for i in idx} for idx in (split.train_idx, split.val_idx, split.test_idx)]
        assert not (groups[0] & groups[1] or groups[0] & groups[2] or groups[1] & groups[2])
        assert split.shared_groups(paths) == set()


def test_run_experiment_end_to_end(tiny_dataset):
    features, labels, paths = create_dataset(tiny_dataset, num_frames=6, image_size=64, num_workers=1,
                                             progress=False)
    split = protocol_split(paths, protocol="group", test_size=0.34, val_size=0.5, seed=1)
    result = run_experiment(lambda: build_lrcn(num_classes=3, num_frames=6), features, labels, split,
                            class_names=["Jumping", "SitDown", "StandUp"], epochs=1, batch_size=4, patience=1,
                            verbose=0, augment="flip")
    assert result.epochs_run == 1 and result.evaluation.confusion.sum() == len(split.test_idx)
    with pytest.raises(ValueError, match="augment"):  # the option reaches the training pipeline
        run_experiment(lambda: build_lrcn(num_classes=3, num_frames=6), features, labels, split,
                       class_names=["Jumping", "SitDown", "StandUp"], epochs=1, batch_size=4, patience=1,
                       verbose=0, augment="bogus")


def test_logo_protocol_holds_out_exactly_one_group(tiny_dataset):
    _, _, paths = create_dataset(tiny_dataset, num_frames=8, image_size=16, num_workers=1, progress=False)
    held_out = []
    for fold in (1, 2, 3):
        split = protocol_split(paths, protocol="logo", fold=fold, val_size=0.5)
        test_groups = {video_group(paths[i]) for i in split.test_idx}
        assert len(test_groups) == 1 and split.shared_groups(paths) == set()
        held_out.append(test_groups.pop())
    assert sorted(held_out) == [1, 2, 3]
    with pytest.raises(ValueError, match="fold"):
        protocol_split(paths, protocol="logo", fold=4)


def _tiny_model(seed: int) -> keras.Model:
    set_seed(seed)
    inputs = keras.Input((4, 8, 8, 3), dtype="uint8")
    x = keras.layers.GlobalAveragePooling3D()(keras.layers.Rescaling(1 / 255)(inputs))
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x), name="tiny")


class _Probe(keras.callbacks.Callback):
    """Records the weights when training begins and after the first epoch; can interrupt an epoch."""

    def __init__(self, interrupt_at: int | None = None):
        super().__init__()
        self.interrupt_at, self.weights = interrupt_at, {}

    def on_train_begin(self, logs=None):
        self.weights["begin"] = [w.copy() for w in self.model.get_weights()]

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.interrupt_at:
            raise RuntimeError("interrupted")

    def on_epoch_end(self, epoch, logs=None):
        self.weights.setdefault("end", [w.copy() for w in self.model.get_weights()])


def test_an_interrupted_training_resumes_from_its_backup(tmp_path):
    clips, labels = _toy_clips(n=8, size=8)
    folders = run_folders(tmp_path, "tiny")
    assert folders == {"log_dir": tmp_path / "logs" / "tiny", "backup_dir": tmp_path / "backup" / "tiny"}
    first = _Probe(interrupt_at=1)  # epoch 0 finishes and is backed up, epoch 1 never starts
    with pytest.raises(RuntimeError, match="interrupted"):
        train(_tiny_model(seed=0), (clips, labels), epochs=3, batch_size=4, verbose=0, callbacks=[first], **folders)
    assert (folders["backup_dir"] / "training_metadata.json").exists()
    second = _Probe()  # the rerun: a fresh model (other initial weights) and the same folders
    history = train(_tiny_model(seed=1), (clips, labels), epochs=3, batch_size=4, verbose=0, callbacks=[second],
                    **folders)
    assert history.epoch == [1, 2] and len(history.history["loss"]) == 2  # continued, did not start over
    for restored, saved in zip(second.weights["begin"], first.weights["end"], strict=True):
        np.testing.assert_array_equal(restored, saved)  # resumed from the weights after epoch 0
    assert not folders["backup_dir"].exists() or not any(folders["backup_dir"].iterdir())  # removed when done
    assert list(folders["log_dir"].rglob("events.out.tfevents.*"))  # the TensorBoard log
