"""The UCF catalogue: what UCF50 and UCF101 are, their file-name convention, layout and official splits.

* :data:`UCF50` and :data:`UCF101` describe each dataset's layout (classes, groups,
  file-name quirks, official splits); :func:`dataset_info` looks one up by name. Where the
  archives are and how to get and unpack them is a tool, not the package:
  ``scripts/ucf_data.py`` (``make data``).
* :func:`video_group` reads the group of a clip from its name (``v_<Class>_gNN_cNN.avi``):
  clips of one group are cut from the same long video. :func:`video_groups` does it for a
  whole dataset and accepts names without the tag (own videos: each file its own group).
* :func:`official_split` reads UCF101's three official splits (UCF50's protocol,
  leave-one-group-out, is :func:`helpers.splits.leave_one_group_out`). See docs/datasets.md.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np

_GROUP_RE = re.compile(r"_g(\d+)_c(\d+)", re.IGNORECASE)
#: Folder of the UCF101 split lists (``classInd.txt``, ``trainlist0N.txt``, ``testlist0N.txt``).
SPLITS_FOLDER = "ucfTrainTestlist"


@dataclass(frozen=True)
class DatasetInfo:
    """A UCF-style action-recognition dataset: ``<root>/<Class>/v_<Class>_gNN_cNN.avi``.

    Clips of one group (``gNN``) are cut from the same long video (same actor,
    background, viewpoint), so an honest split never puts one group on both sides.
    Where to download it is the script's business (``scripts/ucf_data.py``).
    """

    name: str
    class_names: tuple[str, ...]
    num_groups: int
    splits: tuple[int, ...] = ()  # official train/test splits (UCF101: 1, 2, 3)
    #: Class -> other spellings of the class in its file names (known quirks of the archives).
    file_tags: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


UCF50_CLASSES: tuple[str, ...] = (
    "BaseballPitch", "Basketball", "BenchPress", "Biking", "Billiards", "BreastStroke", "CleanAndJerk",
    "Diving", "Drumming", "Fencing", "GolfSwing", "HighJump", "HorseRace", "HorseRiding", "HulaHoop",
    "JavelinThrow", "JugglingBalls", "JumpRope", "JumpingJack", "Kayaking", "Lunges", "MilitaryParade",
    "Mixing", "Nunchucks", "PizzaTossing", "PlayingGuitar", "PlayingPiano", "PlayingTabla", "PlayingViolin",
    "PoleVault", "PommelHorse", "PullUps", "Punch", "PushUps", "RockClimbingIndoor", "RopeClimbing",
    "Rowing", "SalsaSpin", "SkateBoarding", "Skiing", "Skijet", "SoccerJuggling", "Swing", "TaiChi",
    "TennisSwing", "ThrowDiscus", "TrampolineJumping", "VolleyballSpiking", "WalkingWithDog", "YoYo",
)

#: In the order of UCF101's ``classInd.txt`` (label = position; classInd numbers from 1).
UCF101_CLASSES: tuple[str, ...] = (
    "ApplyEyeMakeup", "ApplyLipstick", "Archery", "BabyCrawling", "BalanceBeam", "BandMarching",
    "BaseballPitch", "Basketball", "BasketballDunk", "BenchPress", "Biking", "Billiards", "BlowDryHair",
    "BlowingCandles", "BodyWeightSquats", "Bowling", "BoxingPunchingBag", "BoxingSpeedBag", "BreastStroke",
    "BrushingTeeth", "CleanAndJerk", "CliffDiving", "CricketBowling", "CricketShot", "CuttingInKitchen",
    "Diving", "Drumming", "Fencing", "FieldHockeyPenalty", "FloorGymnastics", "FrisbeeCatch", "FrontCrawl",
    "GolfSwing", "Haircut", "Hammering", "HammerThrow", "HandstandPushups", "HandstandWalking", "HeadMassage",
    "HighJump", "HorseRace", "HorseRiding", "HulaHoop", "IceDancing", "JavelinThrow", "JugglingBalls",
    "JumpingJack", "JumpRope", "Kayaking", "Knitting", "LongJump", "Lunges", "MilitaryParade", "Mixing",
    "MoppingFloor", "Nunchucks", "ParallelBars", "PizzaTossing", "PlayingCello", "PlayingDaf", "PlayingDhol",
    "PlayingFlute", "PlayingGuitar", "PlayingPiano", "PlayingSitar", "PlayingTabla", "PlayingViolin",
    "PoleVault", "PommelHorse", "PullUps", "Punch", "PushUps", "Rafting", "RockClimbingIndoor",
    "RopeClimbing", "Rowing", "SalsaSpin", "ShavingBeard", "Shotput", "SkateBoarding", "Skiing", "Skijet",
    "SkyDiving", "SoccerJuggling", "SoccerPenalty", "StillRings", "SumoWrestling", "Surfing", "Swing",
    "TableTennisShot", "TaiChi", "TennisSwing", "ThrowDiscus", "TrampolineJumping", "Typing", "UnevenBars",
    "VolleyballSpiking", "WalkingWithDog", "WallPushups", "WritingOnBoard", "YoYo",
)

# the archives' own spellings: Billiards/v_Billards_*, PullUps/v_Pullup_*, HandstandPushups/v_HandStandPushups_*
UCF50 = DatasetInfo(name="ucf50", class_names=UCF50_CLASSES, num_groups=25,
                    file_tags=MappingProxyType({"Billiards": ("Billards",), "PullUps": ("Pullup",)}))
UCF101 = DatasetInfo(name="ucf101", class_names=UCF101_CLASSES, num_groups=25, splits=(1, 2, 3),
                     file_tags=MappingProxyType({"HandstandPushups": ("HandStandPushups",)}))

DATASETS: dict[str, DatasetInfo] = {"ucf50": UCF50, "ucf101": UCF101}


def dataset_info(name: str) -> DatasetInfo:
    """The description of ``"ucf50"`` or ``"ucf101"`` (case-insensitive)."""
    try:
        return DATASETS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}") from None


def split_file_names(split: int) -> tuple[str, str]:
    """``("trainlist0N.txt", "testlist0N.txt")`` of official split ``split`` of UCF101."""
    if split not in UCF101.splits:
        raise ValueError(f"UCF101 has official splits {UCF101.splits}, not {split!r}")
    return f"trainlist{split:02d}.txt", f"testlist{split:02d}.txt"


def video_group(path: str | os.PathLike) -> int:
    """The UCF group number of a clip: ``v_TaiChi_g07_c03.avi`` -> 7.

    Raises:
        ValueError: If the file name does not follow ``..._gNN_cNN...``.
    """
    match = _GROUP_RE.search(Path(path).name)
    if match is None:
        raise ValueError(f"{path}: file name has no UCF group/clip tag like '_g07_c03'")
    return int(match.group(1))


def video_groups(video_files_paths: Sequence[str | os.PathLike], *, warn: bool = True) -> np.ndarray:
    """The group of every clip, int64 ``(num_clips,)``; own videos need no UCF tag.

    A name with ``_gNN_cNN`` gives its group number NN, as :func:`video_group` does. A
    file without the tag is its own group (numbered after the largest tagged group, in
    the given order): nothing says which of its clips share a recording, so none is
    assumed to.

    Args:
        video_files_paths: Clip paths in dataset order.
        warn: Say in one warning line how many files had no tag.
    """
    matches = [_GROUP_RE.search(Path(p).name) for p in video_files_paths]
    tagged = [int(m.group(1)) for m in matches if m is not None]
    next_group = max(tagged, default=0) + 1
    groups = np.empty(len(matches), dtype=np.int64)
    untagged = 0
    for i, match in enumerate(matches):
        if match is None:
            groups[i], untagged = next_group + untagged, untagged + 1
        else:
            groups[i] = int(match.group(1))
    if untagged and warn:
        warnings.warn(f"{untagged} of {len(matches)} files have no group tag like '_g07_c03' in their name: each is "
                      "its own group (clips of one recording in one group need the tag)", stacklevel=2)
    return groups


_MAX_NAMES = 10  # file names quoted in one summary line


def _names(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_MAX_NAMES])
    return shown + (f" ... and {len(items) - _MAX_NAMES} more" if len(items) > _MAX_NAMES else "")


def _find_splits_dir(dataset_dir: Path, splits_dir: str | os.PathLike | None) -> Path:
    """Where the UCF101 split lists are: ``splits_dir``, else ``<dataset_dir>/ucfTrainTestlist``,
    else ``<dataset_dir>/../ucfTrainTestlist`` (where ``scripts/ucf_data.py`` puts them)."""
    if splits_dir is not None:
        return Path(splits_dir)
    inside = dataset_dir / SPLITS_FOLDER
    return inside if inside.is_dir() else dataset_dir.parent / SPLITS_FOLDER


def _read_lines(path: Path) -> list[str]:
    # the official lists have Windows line ends; tolerate blank lines
    return [line.strip() for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]


def _read_class_ind(path: Path) -> list[str]:
    """Class names of ``classInd.txt`` (``"<n> <Class>"`` lines, n = 1, 2, ...), in label order."""
    names = []
    for number, line in enumerate(_read_lines(path), start=1):
        parts = line.split()
        if len(parts) != 2 or parts[0] != str(number):
            raise ValueError(f"{path}: line {number} is {line!r}, expected '{number} <ClassName>'")
        names.append(parts[1])
    return names


def _read_split_list(path: Path, class_names: Sequence[str]) -> list[str]:
    """Relative paths ``<Class>/<file>`` of a ``trainlist0N.txt`` / ``testlist0N.txt``.

    A train list's label column (1-based, in classInd order) is checked against the folder.
    """
    rels = []
    for number, line in enumerate(_read_lines(path), start=1):
        parts = line.replace("\\", "/").split()
        if len(parts) not in (1, 2) or parts[0].count("/") != 1:
            raise ValueError(f"{path}: line {number} is {line!r}, expected '<Class>/<file> [label]'")
        folder = parts[0].split("/")[0]
        if len(parts) == 2 and (folder not in class_names or parts[1] != str(class_names.index(folder) + 1)):
            raise ValueError(f"{path}: line {number}: label {parts[1]} does not match class {folder!r} in classInd.txt")
        rels.append(parts[0])
    return rels


def _clip_key(path: str | os.PathLike) -> str:
    path = Path(path)
    return f"{path.parent.name}/{path.name}"


@dataclass(frozen=True)
class OfficialSplit:
    """One official UCF101 train/test split as file lists.

    Compose it with :func:`create_dataset` (labels then follow classInd.txt)::

        split = official_split(dataset_dir, split=1)
        features, labels, paths = create_dataset(dataset_dir, class_names=split.class_names, cache_dir=...)
        train_idx, test_idx = split.indices(paths)
    """

    split: int
    class_names: tuple[str, ...]  # label order: classInd.txt's, or the class_names asked for
    train_files: tuple[Path, ...]  # <dataset_dir>/<Class>/<file>, in list order
    test_files: tuple[Path, ...]

    def indices(self, video_files_paths: Sequence[str | os.PathLike]) -> tuple[np.ndarray, np.ndarray]:
        """``(train_idx, test_idx)`` into ``video_files_paths`` (as :func:`create_dataset` returns them).

        Paths are matched on ``<Class>/<file>``. Listed clips missing from
        ``video_files_paths`` (skipped as unreadable) are left out with a warning.

        Raises:
            ValueError: A path that is in neither list of this split.
        """
        train = {_clip_key(p) for p in self.train_files}
        test = {_clip_key(p) for p in self.test_files}
        keys = [_clip_key(p) for p in video_files_paths]
        unknown = [k for k in keys if k not in train and k not in test]
        if unknown:
            raise ValueError(f"{len(unknown)} videos are in neither list of official split {self.split}: "
                             f"{_names(unknown)}")
        is_test = np.array([k in test for k in keys], dtype=bool)
        absent = len(train) + len(test) - len(set(keys))
        if absent:
            warnings.warn(f"official split {self.split}: {absent} listed clips are not among the "
                          f"{len(keys)} videos given (skipped as unreadable?)", stacklevel=2)
        return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def official_split(dataset_dir: str | os.PathLike, *, split: int, splits_dir: str | os.PathLike | None = None,
                   class_names: Sequence[str] | None = None) -> OfficialSplit:
    """Read UCF101's official split ``split`` (1, 2 or 3) from its lists.

    The lists hold every clip once; split k tests on groups 1-7, 8-14 or 15-21 and
    trains on the rest. Report the mean accuracy over the three splits.

    Args:
        dataset_dir: The UCF101 folder (``<dataset_dir>/<Class>/<videos>``).
        split: 1, 2 or 3.
        splits_dir: Folder of ``classInd.txt``, ``trainlist0N.txt``, ``testlist0N.txt``;
            None looks in ``<dataset_dir>/ucfTrainTestlist`` then ``<dataset_dir>/../ucfTrainTestlist``.
        class_names: Keep only these classes, in this label order (e.g. a subset for a
            quick run); None means all 101 in classInd.txt order.

    Returns:
        An :class:`OfficialSplit`; its ``indices(video_files_paths)`` gives index arrays.

    Raises:
        ValueError: Unknown split, missing or malformed lists, unknown class names, or
            a clip or a (class, group) on both sides.
    """
    train_name, test_name = split_file_names(split)
    root = Path(dataset_dir)
    sdir = _find_splits_dir(root, splits_dir)
    missing = [f for f in ("classInd.txt", train_name, test_name) if not (sdir / f).is_file()]
    if missing:
        raise ValueError(f"{sdir}: missing split files {', '.join(missing)}; get them with "
                         "'python scripts/ucf_data.py download ucf101' or pass splits_dir=")
    class_ind = _read_class_ind(sdir / "classInd.txt")
    names = list(class_ind) if class_names is None else list(class_names)
    unknown = [name for name in names if name not in class_ind]
    if unknown:
        raise ValueError(f"{sdir / 'classInd.txt'} does not list {', '.join(unknown)}")
    wanted = set(names)
    train = [rel for rel in _read_split_list(sdir / train_name, class_ind) if rel.split("/")[0] in wanted]
    test = [rel for rel in _read_split_list(sdir / test_name, class_ind) if rel.split("/")[0] in wanted]
    if both := sorted(set(train) & set(test)):
        raise ValueError(f"{sdir}: {len(both)} clips are in both {train_name} and {test_name}: {_names(both)}")
    train_groups = {(rel.split("/")[0], video_group(rel)) for rel in train}
    if leaks := sorted(f"{c} g{g:02d}" for c, g in {(r.split("/")[0], video_group(r)) for r in test} & train_groups):
        raise ValueError(f"{sdir}: groups on both sides of split {split}: {_names(leaks)}")
    return OfficialSplit(split=split, class_names=tuple(names), train_files=tuple(root / rel for rel in train),
                         test_files=tuple(root / rel for rel in test))
