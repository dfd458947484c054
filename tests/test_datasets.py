"""UCF50/UCF101 layouts, protocols (LOGO, official splits) and the resumable downloader.

Dataset trees are built from a video rendered by the synthetic generator, linked under
UCF names; split lists are written here. Downloads hit a local HTTP server on
127.0.0.1 in a thread, never the network.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import io
import os
import shutil
import socket
import sys
import tarfile
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from helpers import datasets
from helpers.data import (
    OfficialSplit,
    create_dataset,
    leave_one_group_out,
    list_videos,
    official_split,
    split_by_group,
    split_random_clip_leaky,
    validate_layout,
    video_group,
)
from helpers.datasets import UCF50, UCF101, ChecksumError, DownloadError, ExtractError, download

PAPER_CLASSES = ("WalkingWithDog", "TaiChi", "Swing", "HorseRace")  # the four classes of paper 001
TEST_GROUPS = {1: range(1, 8), 2: range(8, 15), 3: range(15, 22)}  # UCF101's official test groups


# --- building UCF trees -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def template_video(tiny_dataset) -> Path:
    """One real, decodable .avi from the synthetic generator."""
    return next((tiny_dataset / "Jumping").glob("*.avi"))


def _file_name(info: datasets.DatasetInfo, name: str, group: int, clip: int) -> str:
    tag = info.file_tags.get(name, (name,))[0]  # the archives' own spelling where it differs
    return f"v_{tag}_g{group:02d}_c{clip:02d}.avi"


def build_tree(root: Path, info: datasets.DatasetInfo, template: Path, *, class_names=None, groups=None,
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
    for info in (UCF50, UCF101):  # nothing invented: no checksum or exact size is published
        assert info.archive.url.startswith("https://www.crcv.ucf.edu/") and info.archive.sha256 is None
    assert datasets.dataset_info("UCF101") is UCF101
    with pytest.raises(ValueError, match="unknown dataset"):
        datasets.dataset_info("hmdb51")


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
    with pytest.raises(ValueError, match="no UCF group"):
        leave_one_group_out(["A/clip.avi"])


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


# --- downloads against a local server -----------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.state["payload"]``; ``cut_first`` drops the first response mid-body."""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        state = self.server.state
        state["requests"].append({"range": self.headers.get("Range"), "if_range": self.headers.get("If-Range")})
        if state.get("status") or (state.get("status_first") and len(state["requests"]) == 1):
            self.send_error(state.get("status") or state["status_first"])
            return
        if state.get("delay"):
            time.sleep(state["delay"])
        payload = state["payload"]
        start = 0
        wanted = self.headers.get("Range")
        if wanted and state.get("ranges", True):
            start = int(wanted.removeprefix("bytes=").split("-")[0])
            if start >= len(payload):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(payload)}")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(payload) - 1}/{len(payload)}")
        else:
            self.send_response(200)
        body = payload[start:]
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", '"v1"')
        self.end_headers()
        try:
            if state.get("cut_first") is not None and len(state["requests"]) == 1:
                self.wfile.write(body[: state["cut_first"]])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)  # the connection drops mid-body
                return
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def server(monkeypatch):
    """A local HTTP server in a thread; ``server.state`` configures it, ``server.url`` serves the payload."""
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    payload = np.random.default_rng(0).integers(0, 256, 300_000, dtype=np.uint8).tobytes()
    httpd.state = {"payload": payload, "requests": []}
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}/UCF50.rar"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_download_resumes_after_a_cut_connection(server, tmp_path):
    payload = server.state["payload"]
    server.state["cut_first"] = 100_000
    dest = tmp_path / "UCF50.rar"
    with pytest.raises(DownloadError, match="interrupted.*run the same command again to resume") as err:
        download(server.url, dest, retries=0, progress=False)
    assert "\n" not in str(err.value)
    part = tmp_path / "UCF50.rar.part"
    assert part.read_bytes() == payload[:100_000] and not dest.exists()

    assert download(server.url, dest, sha256=_sha(payload), retries=0, progress=False) == dest
    assert server.state["requests"][1] == {"range": "bytes=100000-", "if_range": '"v1"'}
    assert dest.read_bytes() == payload
    assert not part.exists() and not (tmp_path / "UCF50.rar.part.json").exists()
    download(server.url, dest, sha256=_sha(payload), progress=False)  # already there: no request
    assert len(server.state["requests"]) == 2


def test_download_retries_by_itself(server, tmp_path):
    server.state["cut_first"] = 12_345
    dest = download(server.url, tmp_path / "a.rar", retries=2, retry_wait=0, progress=False)
    assert dest.read_bytes() == server.state["payload"]
    assert [r["range"] for r in server.state["requests"]] == [None, "bytes=12345-"]


def test_download_retries_a_transient_http_error(server, tmp_path):
    server.state["status_first"] = 503
    with pytest.raises(DownloadError, match="^HTTP 503"):
        download(server.url, tmp_path / "a.rar", retries=0, progress=False)
    dest = download(server.url, tmp_path / "b.rar", retries=1, retry_wait=0, progress=False)
    assert dest.read_bytes() == server.state["payload"]


def test_download_starts_over_when_the_server_ignores_range(server, tmp_path):
    server.state["ranges"] = False
    (tmp_path / "a.rar.part").write_bytes(b"stale bytes of some other file")
    dest = download(server.url, tmp_path / "a.rar", progress=False)
    assert dest.read_bytes() == server.state["payload"]


def test_checksum_mismatch_is_refused_and_the_download_deleted(server, tmp_path):
    dest = tmp_path / "UCF50.rar"
    with pytest.raises(ChecksumError, match="SHA-256 mismatch.*deleted the download") as err:
        download(server.url, dest, sha256=_sha(b"something else"), progress=False)
    assert "\n" not in str(err.value)
    assert not dest.exists() and not (tmp_path / "UCF50.rar.part").exists()

    # a stale partial file (not a prefix of this file) resumes into a wrong file: refused, deleted, then recovered
    (tmp_path / "UCF50.rar.part").write_bytes(b"\0" * 1000)
    with pytest.raises(ChecksumError):
        download(server.url, dest, sha256=_sha(server.state["payload"]), progress=False)
    assert not (tmp_path / "UCF50.rar.part").exists()
    download(server.url, dest, sha256=_sha(server.state["payload"]), progress=False)
    assert dest.read_bytes() == server.state["payload"]


def test_size_mismatch_is_refused(server, tmp_path):
    with pytest.raises(ChecksumError, match="announces 300000 bytes, expected 5"):
        download(server.url, tmp_path / "a.rar", size=5, progress=False)


def test_download_errors_are_one_line(server, tmp_path):
    with socket.socket() as sock:  # a port nobody listens on: connection refused, as when offline
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    with pytest.raises(DownloadError, match=r"cannot reach 127\.0\.0\.1:\d+: .*refused.*offline\?") as err:
        download(f"http://127.0.0.1:{closed_port}/UCF101.rar", tmp_path / "b.rar", progress=False)
    assert "\n" not in str(err.value) and not (tmp_path / "b.rar.part").exists()

    server.state["status"] = 404
    with pytest.raises(DownloadError, match=r"^HTTP 404 Not Found for http://127\.0\.0\.1"):
        download(server.url, tmp_path / "c.rar", progress=False)

    server.state.update(status=None, delay=2.0)
    started = time.perf_counter()
    with pytest.raises(DownloadError, match="timed out"):
        download(server.url, tmp_path / "d.rar", timeout=0.3, retries=0, progress=False)
    assert time.perf_counter() - started < 1.5


# --- extraction and the command line ------------------------------------------------------------


def _zip_tree(root: Path, *, top: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                zf.write(path, f"{top}/{path.relative_to(root)}")
    return buffer.getvalue()


def test_extract_zip_returns_the_top_folder(tmp_path):
    archive = tmp_path / "lists.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ucfTrainTestlist/classInd.txt", "1 ApplyEyeMakeup\r\n")
    top = datasets.extract_archive(archive, tmp_path / "out")
    assert top.name == "ucfTrainTestlist" and (top / "classInd.txt").exists()


def _fake_tool(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!{sys.executable}\n{body}")
    path.chmod(0o755)


def test_extractor_fallback_and_missing_tool(tmp_path, monkeypatch):
    src = tmp_path / "src" / "UCF50" / "TaiChi"
    src.mkdir(parents=True)
    (src / "v_TaiChi_g01_c01.avi").write_bytes(b"video")
    archive = tmp_path / "UCF50.rar"  # a tar standing in for a RAR: only the fake tools read it
    with tarfile.open(archive, "w") as tf:
        tf.add(tmp_path / "src" / "UCF50", arcname="UCF50")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(ExtractError, match="no RAR extractor found.*apt-get install unar") as err:
        datasets.extract_archive(archive, tmp_path / "out")
    assert "\n" not in str(err.value)

    _fake_tool(bin_dir, "unar", "import sys; print('unar: unsupported archive', file=sys.stderr); sys.exit(1)\n")
    _fake_tool(bin_dir, "bsdtar", "import sys, tarfile\nargs = sys.argv[1:]\n"
                                  "tarfile.open(args[args.index('-f') + 1]).extractall(args[args.index('-C') + 1])\n")
    assert datasets.find_extractors() == ["unar", "bsdtar"]
    top = datasets.extract_archive(archive, tmp_path / "out")
    assert top.name == "UCF50" and (top / "TaiChi" / "v_TaiChi_g01_c01.avi").read_bytes() == b"video"
    with pytest.raises(ExtractError, match="unar exit 1: unar: unsupported archive"):
        datasets.extract_archive(archive, tmp_path / "out2", tools=["unar"])
    assert not any((tmp_path / "out2").iterdir())  # the work folder is cleaned up


@pytest.mark.skipif(shutil.which("unar") is None, reason="unar is not installed")
def test_the_real_unar_extracts(tmp_path):
    archive = tmp_path / "data.tar"
    with tarfile.open(archive, "w") as tf:
        info = tarfile.TarInfo("UCF50/YoYo/v_YoYo_g01_c01.avi")
        info.size = 5
        tf.addfile(info, io.BytesIO(b"video"))
    top = datasets.extract_archive(archive, tmp_path, tools=["unar"])
    assert (top / "YoYo" / "v_YoYo_g01_c01.avi").read_bytes() == b"video"


def test_cli_download_end_to_end_from_a_local_server(server, tmp_path, template_video, monkeypatch, capsys):
    classes = ("Billiards", "PullUps", "TaiChi")
    tree = build_tree(tmp_path / "src", UCF50, template_video, class_names=classes, groups=(1, 2))
    server.state["payload"] = _zip_tree(tree, top="UCF50")  # served as UCF50.rar; zip content is detected
    small = dataclasses.replace(UCF50, class_names=classes, archive=datasets.Archive(server.url, "UCF50.rar"))
    monkeypatch.setitem(datasets.DATASETS, "ucf50", small)
    monkeypatch.setattr(datasets, "find_extractors", lambda: ["unar"])  # checked before downloading
    dest = tmp_path / "data"
    assert datasets.main(["download", "ucf50", "--dest", str(dest), "--remove-archive"]) == 0
    out = capsys.readouterr().out
    assert f"HAR_DATASET_DIR={dest / 'UCF50'}" in out and "6 videos in 3 classes" in out
    assert validate_layout(dest / "UCF50", layout="ucf50") == dict.fromkeys(classes, 2)
    assert not (dest / "UCF50.rar").exists() and not list(dest.glob(".extract-*"))
    assert datasets.main(["download", "ucf50", "--dest", str(dest)]) == 0  # already there: no request
    assert len(server.state["requests"]) == 1 and "already in place" in capsys.readouterr().out


def test_cli_errors_are_one_line(tmp_path, monkeypatch, capsys, ucf50_tree):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/UCF50.rar"
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setitem(datasets.DATASETS, "ucf50", dataclasses.replace(UCF50, archive=datasets.Archive(url, "x.rar")))
    monkeypatch.setattr(datasets, "find_extractors", lambda: ["unar"])
    assert datasets.main(["download", "ucf50", "--dest", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot reach 127.0.0.1:") and err.count("\n") == 1

    monkeypatch.setattr(datasets, "find_extractors", lambda: [])
    assert datasets.main(["download", "ucf50", "--dest", str(tmp_path)]) == 1
    assert "no RAR extractor found" in capsys.readouterr().err
    assert datasets.main(["check-extractor"]) == 1

    monkeypatch.undo()
    assert datasets.main(["validate", "ucf50", str(ucf50_tree)]) == 0
    assert datasets.main(["validate", "ucf50", str(ucf50_tree), "--classes", "TaiChi,Swing"]) == 0
    assert "2 classes" in capsys.readouterr().out
    assert datasets.main(["validate", "ucf101", str(ucf50_tree)]) == 1
    assert "does not match the ucf101 layout" in capsys.readouterr().err
    assert datasets.main(["info"]) == 0 and "official splits 1, 2, 3" in capsys.readouterr().out
