"""scripts/ucf_data.py: the resumable downloader, archive extraction and the command line.

Downloads hit a local HTTP server on 127.0.0.1 in a thread, never the network.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import io
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

from helpers import ucf
from helpers.ucf import UCF50
from tests.test_ucf import build_tree

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import ucf_data  # noqa: E402
from ucf_data import ChecksumError, DownloadError, ExtractError, download, validate_layout  # noqa: E402


@pytest.fixture(scope="session")
def template_video(tiny_dataset) -> Path:
    """One real, decodable .avi from the synthetic generator."""
    return next((tiny_dataset / "Jumping").glob("*.avi"))


@pytest.fixture(scope="module")
def ucf50_tree(tmp_path_factory, template_video) -> Path:
    return build_tree(tmp_path_factory.mktemp("ucf50") / "UCF50", UCF50, template_video)


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
    with pytest.raises(DownloadError, match="timed out"):  # the server answers after 2 s: the 0.3 s timeout holds
        download(server.url, tmp_path / "d.rar", timeout=0.3, retries=0, progress=False)


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
    top = ucf_data.extract_archive(archive, tmp_path / "out")
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
        ucf_data.extract_archive(archive, tmp_path / "out")
    assert "\n" not in str(err.value)

    _fake_tool(bin_dir, "unar", "import sys; print('unar: unsupported archive', file=sys.stderr); sys.exit(1)\n")
    _fake_tool(bin_dir, "bsdtar", "import sys, tarfile\nargs = sys.argv[1:]\n"
                                  "tarfile.open(args[args.index('-f') + 1]).extractall(args[args.index('-C') + 1])\n")
    assert ucf_data.find_extractors() == ["unar", "bsdtar"]
    top = ucf_data.extract_archive(archive, tmp_path / "out")
    assert top.name == "UCF50" and (top / "TaiChi" / "v_TaiChi_g01_c01.avi").read_bytes() == b"video"
    with pytest.raises(ExtractError, match="unar exit 1: unar: unsupported archive"):
        ucf_data.extract_archive(archive, tmp_path / "out2", tools=["unar"])
    assert not any((tmp_path / "out2").iterdir())  # the work folder is cleaned up


@pytest.mark.skipif(shutil.which("unar") is None, reason="unar is not installed")
def test_the_real_unar_extracts(tmp_path):
    archive = tmp_path / "data.tar"
    with tarfile.open(archive, "w") as tf:
        info = tarfile.TarInfo("UCF50/YoYo/v_YoYo_g01_c01.avi")
        info.size = 5
        tf.addfile(info, io.BytesIO(b"video"))
    top = ucf_data.extract_archive(archive, tmp_path, tools=["unar"])
    assert (top / "YoYo" / "v_YoYo_g01_c01.avi").read_bytes() == b"video"


def test_cli_download_end_to_end_from_a_local_server(server, tmp_path, template_video, monkeypatch, capsys):
    classes = ("Billiards", "PullUps", "TaiChi")
    tree = build_tree(tmp_path / "src", UCF50, template_video, class_names=classes, groups=(1, 2))
    server.state["payload"] = _zip_tree(tree, top="UCF50")  # served as UCF50.rar; zip content is detected
    small = dataclasses.replace(UCF50, class_names=classes)
    monkeypatch.setitem(ucf.DATASETS, "ucf50", small)  # the layout validate_layout checks
    monkeypatch.setitem(ucf_data.SOURCES, "ucf50", dataclasses.replace(
        ucf_data.SOURCES["ucf50"], info=small, archive=ucf_data.Archive(server.url, "UCF50.rar")))
    monkeypatch.setattr(ucf_data, "find_extractors", lambda: ["unar"])  # checked before downloading
    dest = tmp_path / "data"
    assert ucf_data.main(["download", "ucf50", "--dest", str(dest), "--remove-archive"]) == 0
    out = capsys.readouterr().out
    assert f"HAR_DATASET_DIR={dest / 'UCF50'}" in out and "6 videos in 3 classes" in out
    assert validate_layout(dest / "UCF50", layout="ucf50") == dict.fromkeys(classes, 2)
    assert not (dest / "UCF50.rar").exists() and not list(dest.glob(".extract-*"))
    assert ucf_data.main(["download", "ucf50", "--dest", str(dest)]) == 0  # already there: no request
    assert len(server.state["requests"]) == 1 and "already in place" in capsys.readouterr().out


def test_cli_errors_are_one_line(tmp_path, monkeypatch, capsys, ucf50_tree):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/UCF50.rar"
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setitem(ucf_data.SOURCES, "ucf50",
                        dataclasses.replace(ucf_data.SOURCES["ucf50"], archive=ucf_data.Archive(url, "x.rar")))
    monkeypatch.setattr(ucf_data, "find_extractors", lambda: ["unar"])
    assert ucf_data.main(["download", "ucf50", "--dest", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot reach 127.0.0.1:") and err.count("\n") == 1

    monkeypatch.setattr(ucf_data, "find_extractors", lambda: [])
    assert ucf_data.main(["download", "ucf50", "--dest", str(tmp_path)]) == 1
    assert "no RAR extractor found" in capsys.readouterr().err
    assert ucf_data.main(["check-extractor"]) == 1

    monkeypatch.undo()
    assert ucf_data.main(["validate", "ucf50", str(ucf50_tree)]) == 0
    assert ucf_data.main(["validate", "ucf50", str(ucf50_tree), "--classes", "TaiChi,Swing"]) == 0
    assert "2 classes" in capsys.readouterr().out
    assert ucf_data.main(["validate", "ucf101", str(ucf50_tree)]) == 1
    assert "does not match the ucf101 layout" in capsys.readouterr().err
    assert ucf_data.main(["info"]) == 0 and "official splits 1, 2, 3" in capsys.readouterr().out


def test_sources_invent_nothing():
    assert [src.info for src in ucf_data.SOURCES.values()] == [UCF50, ucf.UCF101]
    for src in ucf_data.SOURCES.values():  # no checksum or exact size is published
        assert src.archive.url.startswith("https://www.crcv.ucf.edu/") and src.archive.sha256 is None
    assert ucf_data.source("UCF101").splits_archive.filename.endswith(".zip")
    with pytest.raises(ValueError, match="unknown dataset"):
        ucf_data.source("hmdb51")
