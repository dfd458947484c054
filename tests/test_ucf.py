"""The UCF catalogue: UCF50/UCF101 descriptions, the file-name convention, layout validation,
and their protocols (LOGO, official splits).

Dataset trees are built from a video rendered by the synthetic generator, linked under
UCF names; split lists are written here.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from helpers import ucf
from helpers.dataset import create_dataset, list_videos
from helpers.splits import leave_one_group_out, split_by_group, split_random_clip_leaky
from helpers.ucf import UCF50, UCF101, OfficialSplit, official_split, video_group
from scripts.ucf_data import validate_layout  # the layout check is the data tool's (make data)

PAPER_CLASSES = ("WalkingWithDog", "TaiChi", "Swing", "HorseRace")  # the four classes of paper 001
TEST_GROUPS = {1: range(1, 8), 2: range(8, 15), 3: range(15, 22)}  # UCF101's official test groups


# --- building UCF trees -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def template_video(tiny_dataset) -> Path:
    """One real, decodable .avi from the synthetic generator."""
    return next((tiny_dataset / "Jumping").glob("*.avi"))


def _file_name(info: ucf.DatasetInfo, name: str, group: int, clip: int) -> str:
    tag = info.file_tags.get(name, (name,))[0]  # the archives' own spelling where it differs
    return f"v_{tag}_g{group:02d}_c{clip:02d}.avi"


def build_tree(root: Path, info: ucf.DatasetInfo, template: Path, *, class_names=None, groups=None,
               clips: int = 1) -> Path:
    """``<root>/<Class>/v_<Class>_gNN_cNN.avi`` for every class and group, each a link to ``template``."""
    for name in class_names or info.class_names:
        (root / name).mkdir(parents=True)
        for group in groups or range(1, info.num_groups + 1):
            for clip in range(1, clips + 1):
                os.link(template, root / name / _file_name(info, name, group, clip))
    return root


def write_split_lists(folder: Path, *, class_names=UCF101.class_names, groups=None, clips: int = 1) -> Path:
    """classInd.txt and the three train/test lists, in the official format (CRLF, 1-based labels)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "classInd.txt").write_bytes("".join(f"{i} {c}\r\n" for i, c in enumerate(UCF101.class_names, 1))
                                          .encode())
    for split, test_groups in TEST_GROUPS.items():
        train, test = [], []
        for name in class_names:
            label = UCF101.class_names.index(name) + 1
            for group in groups or range(1, 26):
                for clip in range(1, clips + 1):
                    rel = f"{name}/{_file_name(UCF101, name, group, clip)}"
                    if group in test_groups:
                        test.append(f"{rel}\r\n")
                    else:
                        train.append(f"{rel} {label}\r\n")
        (folder / f"trainlist{split:02d}.txt").write_bytes("".join(train).encode())
        (folder / f"testlist{split:02d}.txt").write_bytes("".join(test).encode())
    return folder


@pytest.fixture(scope="module")
def ucf50_tree(tmp_path_factory, template_video) -> Path:
    return build_tree(tmp_path_factory.mktemp("ucf50") / "UCF50", UCF50, template_video)


@pytest.fixture(scope="module")
def ucf101_tree(tmp_path_factory, template_video) -> Path:
    root = build_tree(tmp_path_factory.mktemp("ucf101") / "UCF101", UCF101, template_video)
    write_split_lists(root.parent / "ucfTrainTestlist")
    return root


def _problems(err: pytest.ExceptionInfo) -> str:
    return str(err.value)


# --- layout validation --------------------------------------------------------------------------


def test_dataset_descriptions():
    assert (UCF50.num_classes, UCF50.num_groups) == (50, 25)
    assert (UCF101.num_classes, UCF101.num_groups, UCF101.splits) == (101, 25, (1, 2, 3))
    assert len(set(UCF50.class_names)) == 50 and len(set(UCF101.class_names)) == 101
    assert set(PAPER_CLASSES) <= set(UCF50.class_names) & set(UCF101.class_names)
    assert UCF101.class_names[:3] == ("ApplyEyeMakeup", "ApplyLipstick", "Archery")
    assert UCF101.class_names.index("JumpingJack") == 46 and UCF101.class_names[-1] == "YoYo"  # classInd order
    assert ucf.dataset_info("UCF101") is UCF101
    with pytest.raises(ValueError, match="unknown dataset"):
        ucf.dataset_info("hmdb51")


def test_full_ucf50_tree_is_valid(ucf50_tree):
    (ucf50_tree / ".DS_Store").write_bytes(b"x")  # hidden files are ignored
    counts = validate_layout(ucf50_tree, layout="ucf50")
    assert list(counts) == list(UCF50.class_names) and set(counts.values()) == {25}
    assert (ucf50_tree / "Billiards" / "v_Billards_g01_c01.avi").exists()  # the archive's spelling passes


def test_broken_ucf50_tree_names_each_problem(tmp_path, template_video):
    root = build_tree(tmp_path / "UCF50", UCF50, template_video, groups=range(1, 3))
    shutil.rmtree(root / "YoYo")
    shutil.rmtree(root / "Rowing")
    (root / "Junk").mkdir()
    (root / "taichi").mkdir()
    (root / "notes.txt").write_text("hi")
    os.link(template_video, root / "Swing" / "v_TaiChi_g01_c09.avi")  # wrong class folder
    os.link(template_video, root / "Punch" / "v_Punch_g26_c01.avi")  # no group 26 in UCF
    os.link(template_video, root / "Punch" / "clip.avi")  # bad name
    (root / "Punch" / "v_Punch_g01_c02.txt").write_text("x")  # not a video extension
    (root / "Punch" / "v_Punch_g02_c05.avi").write_bytes(b"")  # empty
    (root / "Punch" / "extra").mkdir()
    os.link(template_video, root / "Skiing" / "v_Snowboard_g01_c01.avi")  # not a UCF50 class

    with pytest.raises(ValueError) as err:
        validate_layout(root, layout="ucf50", class_names=None)
    text = _problems(err)
    assert "does not match the ucf50 layout" in text
    assert "missing class folders (2 of 50): Rowing, YoYo" in text
    assert "Junk/: unexpected folder" in text
    assert "taichi/: unexpected folder, not a ucf50 class (the class is spelled TaiChi)" in text
    assert "notes.txt: unexpected file at the top level" in text
    assert "Swing/v_TaiChi_g01_c09.avi: a TaiChi video in the Swing/ folder" in text
    assert "Punch/v_Punch_g26_c01.avi: group 26 is outside 1..25" in text
    assert "Punch/clip.avi: name does not match" in text
    assert "Punch/v_Punch_g01_c02.txt: name does not match" in text
    assert "Punch/v_Punch_g02_c05.avi: empty file" in text
    assert "Punch/extra/: unexpected folder inside a class folder" in text
    assert "Skiing/v_Snowboard_g01_c01.avi: 'Snowboard' in the file name is not a ucf50 class" in text
    assert "(11 problems)" in text and text.count("\n  - ") == 11  # one line per problem


def test_a_subset_of_classes_such_as_the_papers_four(tmp_path, template_video):
    root = build_tree(tmp_path / "UCF50", UCF50, template_video, class_names=PAPER_CLASSES, groups=range(1, 4))
    counts = validate_layout(root, layout="ucf50", class_names=PAPER_CLASSES)
    assert counts == dict.fromkeys(PAPER_CLASSES, 3)
    with pytest.raises(ValueError, match=r"missing class folders \(46 of 50\)"):
        validate_layout(root, layout="ucf50")
    with pytest.raises(ValueError, match="not ucf50 classes: Jumping"):
        validate_layout(root, layout="ucf50", class_names=["TaiChi", "Jumping"])
    shutil.rmtree(root / "Swing")
    with pytest.raises(ValueError, match=r"missing class folders \(1 of 4\): Swing"):
        validate_layout(root, layout="ucf50", class_names=PAPER_CLASSES)


def test_the_embedded_dataset_is_not_a_ucf_layout(tiny_dataset):
    with pytest.raises(ValueError) as err:
        validate_layout(tiny_dataset, layout="ucf50")
    assert "Jumping/: unexpected folder" in _problems(err) and "missing class folders (50 of 50)" in _problems(err)
    with pytest.raises(ValueError, match="dataset folder does not exist"):
        validate_layout(tiny_dataset / "nope", layout="ucf50")


def test_full_ucf101_tree_with_split_lists_is_valid(ucf101_tree):
    counts = validate_layout(ucf101_tree, layout="ucf101")
    assert len(counts) == 101 and sum(counts.values()) == 101 * 25
    assert (ucf101_tree / "HandstandPushups" / "v_HandStandPushups_g01_c01.avi").exists()


def test_ucf101_split_lists_inside_the_dataset_folder_or_elsewhere(tmp_path, template_video):
    classes = ("ApplyEyeMakeup", "YoYo")
    root = build_tree(tmp_path / "UCF101", UCF101, template_video, class_names=classes)
    with pytest.raises(ValueError, match="missing split files: classInd.txt, trainlist01.txt"):
        validate_layout(root, layout="ucf101", class_names=classes)
    write_split_lists(root / "ucfTrainTestlist", class_names=classes)  # inside: allowed, not a class
    assert validate_layout(root, layout="ucf101", class_names=classes) == dict.fromkeys(classes, 25)
    shutil.move(root / "ucfTrainTestlist", tmp_path / "lists")
    assert validate_layout(root, layout="ucf101", class_names=classes, splits_dir=tmp_path / "lists")


def test_ucf101_split_lists_that_disagree_with_the_disk(tmp_path, template_video):
    classes = ("Archery", "Typing")
    root = build_tree(tmp_path / "UCF101", UCF101, template_video, class_names=classes, groups=range(1, 10))
    lists = write_split_lists(tmp_path / "ucfTrainTestlist", class_names=classes, groups=range(1, 9))
    os.link(template_video, root / "Typing" / "v_Typing_g09_c02.avi")  # in no list (groups 1-8 listed + g09)
    (lists / "testlist02.txt").unlink()
    (lists / "trainlist01.txt").write_bytes((lists / "trainlist01.txt").read_bytes()
                                            + b"Archery/v_Archery_g20_c01.avi 3\r\n")
    with pytest.raises(ValueError) as err:
        validate_layout(root, layout="ucf101", class_names=classes)
    assert "missing split files: testlist02.txt" in _problems(err)
    write_split_lists(lists, class_names=classes, groups=range(1, 10))
    (lists / "trainlist01.txt").write_bytes((lists / "trainlist01.txt").read_bytes()
                                            + b"Archery/v_Archery_g20_c01.avi 3\r\n")
    with pytest.raises(ValueError) as err:
        validate_layout(root, layout="ucf101", class_names=classes)
    text = _problems(err)
    assert "trainlist01.txt / testlist01.txt: 1 listed videos are not on disk: Archery/v_Archery_g20_c01.avi" in text
    assert "1 videos are in neither trainlist01.txt nor testlist01.txt: Typing/v_Typing_g09_c02.avi" in text
    (lists / "classInd.txt").write_text("1 Archery\n2 ApplyEyeMakeup\n")
    with pytest.raises(ValueError, match="does not list the 101 ucf101 classes in the official order"):
        validate_layout(root, layout="ucf101", class_names=classes)


# --- protocols ----------------------------------------------------------------------------------


def test_leave_one_group_out_folds_never_share_a_group_and_test_each_group_once(ucf50_tree):
    _, paths, _ = list_videos(ucf50_tree)
    groups = np.array([video_group(p) for p in paths])
    folds = list(leave_one_group_out(paths))
    assert len(folds) == 25
    tested = []
    for train_idx, test_idx in folds:
        assert set(groups[train_idx]).isdisjoint(groups[test_idx])
        assert len(set(groups[test_idx])) == 1  # one whole group, all 50 classes of it
        assert len(test_idx) == 50
        np.testing.assert_array_equal(np.sort(np.concatenate([train_idx, test_idx])), np.arange(len(paths)))
        tested.extend(test_idx.tolist())
    assert sorted(tested) == list(range(len(paths)))  # every clip tested exactly once
    assert [int(groups[t[0]]) for _, t in folds] == list(range(1, 26))  # in group order


def test_leave_one_group_out_needs_two_groups():
    with pytest.raises(ValueError, match="at least 2 groups"):
        leave_one_group_out(["A/v_A_g01_c01.avi", "B/v_B_g01_c02.avi"])  # raised at once, not on iteration
    with pytest.warns(UserWarning, match="no group tag"), pytest.raises(ValueError, match="at least 2 groups"):
        leave_one_group_out(["A/clip.avi"])  # a name without the tag is its own group


@pytest.mark.parametrize("split", [1, 2, 3])
def test_official_split_reads_the_lists(ucf101_tree, split):
    result = official_split(ucf101_tree, split=split)
    assert isinstance(result, OfficialSplit) and result.class_names == UCF101.class_names
    test_groups = {video_group(p) for p in result.test_files}
    assert test_groups == set(TEST_GROUPS[split])
    assert {video_group(p) for p in result.train_files} == set(range(1, 26)) - test_groups
    assert len(result.train_files) + len(result.test_files) == 101 * 25
    assert all(p.exists() for p in result.train_files[:5] + result.test_files[:5])

    _, paths, _ = list_videos(ucf101_tree, class_names=result.class_names)
    train_idx, test_idx = result.indices(paths)
    assert len(train_idx) == len(result.train_files) and len(test_idx) == len(result.test_files)
    assert {video_group(paths[i]) for i in test_idx} == set(TEST_GROUPS[split])


def test_official_split_subset_unknown_paths_and_bad_arguments(ucf101_tree):
    result = official_split(ucf101_tree, split=1, class_names=["YoYo", "Archery"])
    assert result.class_names == ("YoYo", "Archery")
    assert {p.parent.name for p in result.test_files} == {"YoYo", "Archery"}
    _, paths, _ = list_videos(ucf101_tree, class_names=["YoYo", "Archery"])
    with pytest.warns(UserWarning, match="1 listed clips are not among"):
        train_idx, test_idx = result.indices(paths[1:])  # one clip skipped as unreadable
    assert len(train_idx) + len(test_idx) == len(paths) - 1
    with pytest.raises(ValueError, match="in neither list of official split 1: Typing/v_Typing_g01_c01.avi"):
        result.indices([*paths, ucf101_tree / "Typing" / "v_Typing_g01_c01.avi"])
    with pytest.raises(ValueError, match="official splits"):
        official_split(ucf101_tree, split=4)
    with pytest.raises(ValueError, match="does not list Jumping"):
        official_split(ucf101_tree, split=1, class_names=["Jumping"])
    with pytest.raises(ValueError, match="missing split files"):
        official_split(ucf101_tree, split=1, splits_dir=ucf101_tree / "nowhere")


def test_official_split_refuses_lists_that_leak(tmp_path):
    lists = write_split_lists(tmp_path / "lists", class_names=("Archery",), groups=range(1, 10))
    with open(lists / "testlist01.txt", "ab") as f:
        f.write(b"Archery/v_Archery_g08_c07.avi\r\n")  # group 8 is in trainlist01 too
    with pytest.raises(ValueError, match="groups on both sides of split 1: Archery g08"):
        official_split(tmp_path, split=1, splits_dir=lists)
    with open(lists / "testlist02.txt", "ab") as f:
        f.write(b"Archery/v_Archery_g01_c01.avi\r\n")  # listed in trainlist02 too
    with pytest.raises(ValueError, match="in both trainlist02.txt and testlist02.txt"):
        official_split(tmp_path, split=2, splits_dir=lists)


def test_official_split_composes_with_create_dataset(tmp_path, template_video):
    classes = ("Archery", "Basketball", "YoYo")
    root = build_tree(tmp_path / "UCF101", UCF101, template_video, class_names=classes, groups=(1, 8, 22))
    write_split_lists(tmp_path / "ucfTrainTestlist", class_names=classes, groups=(1, 8, 22))
    validate_layout(root, layout="ucf101", class_names=classes)
    split = official_split(root, split=1, class_names=classes)
    features, labels, paths = create_dataset(root, class_names=split.class_names, num_frames=4, image_size=16,
                                             num_workers=1, progress=False, cache_dir=tmp_path / "cache")
    train_idx, test_idx = split.indices(paths)
    assert features.shape == (9, 4, 16, 16, 3)
    assert sorted(video_group(paths[i]) for i in test_idx) == [1, 1, 1]
    assert sorted(labels[test_idx]) == [0, 1, 2]  # every class tested, labels in class_names order
    assert {video_group(paths[i]) for i in train_idx} == {8, 22}


def test_the_leaky_split_shares_groups_the_honest_ones_do_not(ucf50_tree):
    _, paths, _ = list_videos(ucf50_tree, class_names=PAPER_CLASSES)
    groups = np.array([video_group(p) for p in paths])
    train_idx, test_idx = split_random_clip_leaky(len(paths), seed=27)
    assert set(groups[train_idx]) & set(groups[test_idx])  # the paper's split leaks
    train_idx, test_idx = split_by_group(paths, seed=27)
    assert not set(groups[train_idx]) & set(groups[test_idx])


def test_video_group_parses_ucf_names():
    assert video_group("data/UCF50/TaiChi/v_TaiChi_g07_c03.avi") == 7
    assert video_group("v_ApplyEyeMakeup_g25_c01.avi") == 25
    with pytest.raises(ValueError, match="group"):
        video_group("holiday.mp4")
