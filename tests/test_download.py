"""download_video end to end against a local HTTP server on 127.0.0.1 (never the internet)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest

from helpers.download import DownloadError, download_video, js_runtime, js_runtimes, normalise_url, url_key
from tests.conftest import numbered_frames, write_video
from tests.serve import TrickleHandler, closed_port_url, serve_directory

HOSTILE_TITLE = "../../../escaped/evil"


class Handler(TrickleHandler):
    """Static files plus a few hostile or broken routes (and /trickle/<file>)."""

    def _send(self, data: bytes, *, headers: dict[str, str], length: bool = True) -> None:
        self.send_response(200)
        for key, value in headers.items():
            self.send_header(key, value)
        if length:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        root = Path(self.directory)
        if self.path.startswith("/attachment"):  # no extension in the URL, a path in the header
            self._send((root / "clip.avi").read_bytes(), headers={
                "Content-Type": "video/x-msvideo",
                "Content-Disposition": 'attachment; filename="../../../escaped/evil.avi"'})
        elif self.path.startswith("/stream.mp4"):  # no Content-Length: the size limit must act while streaming
            self.close_connection = True
            self._send((root / "bunny.mp4").read_bytes(), headers={"Content-Type": "video/mp4"}, length=False)
        elif self.path.startswith("/slow.mp4"):
            time.sleep(3)
            self._send(b"", headers={"Content-Type": "video/mp4"})
        else:
            super().do_GET()


@pytest.fixture(scope="module")
def site(tmp_path_factory, real_mp4) -> Path:
    root = tmp_path_factory.mktemp("site")
    write_video(root / "clip.avi", numbered_frames(30, size=32))
    (root / "v2").mkdir()
    write_video(root / "v2" / "clip.avi", numbered_frames(30, size=32)[::-1])  # another video, the same file name
    shutil.copy(real_mp4, root / "bunny.mp4")
    (root / "escaped").mkdir()
    shutil.copy(real_mp4, root / "escaped" / "evil.mp4")  # served at /..%2F..%2Fescaped%2Fevil.mp4
    (root / "junk.mp4").write_bytes(b"\x00not a video\xff" * 100)
    (root / "page.html").write_text("<html><head><title>Nothing here</title></head><body><p>text</p></body></html>")
    (root / "hostile.html").write_text(f"<html><head><title>{HOSTILE_TITLE}</title></head><body>"
                                       '<video src="bunny.mp4"></video></body></html>')
    (root / "two.html").write_text("<html><head><title>two</title></head><body>"
                                   '<video src="bunny.mp4"></video><video src="clip.avi"></video></body></html>')
    return root


@pytest.fixture(scope="module")
def base_url(site):
    with serve_directory(site, handler=Handler) as url:
        yield url


@pytest.fixture
def out_dir(tmp_path) -> Path:
    return tmp_path / "nested" / "downloads"


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def fetch(url: str, out_dir: Path, **kwargs) -> Path:
    return download_video(url, out_dir, progress=False, **kwargs)


def test_direct_link_downloads_the_exact_file(base_url, site, out_dir):
    path = fetch(base_url + "clip.avi", out_dir)
    assert path.parent == out_dir.resolve()
    assert path.read_bytes() == (site / "clip.avi").read_bytes()
    assert files_under(out_dir.parent) == [path]  # no partial or temporary files left


def test_real_h264_mp4_downloads_and_decodes(base_url, real_mp4, out_dir):
    path = fetch(base_url + "bunny.mp4", out_dir)
    assert path.read_bytes() == real_mp4.read_bytes()
    cap = cv2.VideoCapture(str(path))
    assert cap.read()[0]
    cap.release()


def test_second_download_reuses_the_file(base_url, out_dir):
    first = fetch(base_url + "clip.avi", out_dir)
    assert fetch(base_url + "clip.avi", out_dir) == first
    assert files_under(out_dir) == [first]


def test_the_same_file_name_from_two_urls_is_two_downloads(base_url, site, out_dir):
    """The cache was keyed by the file name: /v2/clip.avi answered with /clip.avi's video."""
    first = fetch(base_url + "clip.avi", out_dir)
    second = fetch(base_url + "v2/clip.avi", out_dir)
    assert first != second
    assert first.read_bytes() == (site / "clip.avi").read_bytes()
    assert second.read_bytes() == (site / "v2" / "clip.avi").read_bytes() != first.read_bytes()
    again = fetch(base_url.replace("http://", "HTTP://") + "clip.avi#t=3", out_dir)  # the same URL, normalised
    assert again == first and files_under(out_dir) == sorted([first, second])


def test_url_key_normalises_the_url_and_keeps_the_video_id():
    assert normalise_url("HTTPS://Example.COM:443/a/b.mp4?x=1#frag") == "https://example.com/a/b.mp4?x=1"
    assert normalise_url("http://example.com") == "http://example.com/"
    assert normalise_url("http://example.com:8080/a") == "http://example.com:8080/a"
    assert url_key("https://example.com/a.mp4") == url_key("https://EXAMPLE.com/a.mp4#x")
    assert url_key("https://example.com/a.mp4") != url_key("https://example.com/v2/a.mp4")
    assert url_key("https://youtu.be/x", extractor="Youtube", video_id="a") != url_key(
        "https://youtu.be/x", extractor="Youtube", video_id="b")


def test_a_trickling_server_ends_within_the_deadline(base_url, out_dir):
    """One byte every 0.25 s never trips the socket timeout; the overall deadline ends it, in one line."""
    started = time.monotonic()
    with pytest.raises(DownloadError, match=r"took longer than timeout=2 s") as info:
        fetch(base_url + "trickle/bunny.mp4", out_dir, timeout=2.0)
    assert time.monotonic() - started < 6
    assert "\n" not in str(info.value)
    assert files_under(out_dir) == [] and list(out_dir.iterdir()) == []  # no partial file, no temporary folder


@pytest.mark.parametrize(("route", "expected"), [
    ("missing.mp4", "HTTP error 404"),
    ("page.html", "no video found"),
    ("junk.mp4", "not a video"),
])
def test_failures_are_one_line_and_leave_nothing(base_url, out_dir, route, expected):
    with pytest.raises(DownloadError, match=expected) as info:
        fetch(base_url + route, out_dir)
    message = str(info.value)
    assert message.startswith(base_url + route) and "\n" not in message
    assert files_under(out_dir) == []


def test_connection_refused(out_dir):
    url = closed_port_url()
    with pytest.raises(DownloadError, match="connection refused"):
        fetch(url, out_dir)


def test_socket_timeout(base_url, out_dir):
    with pytest.raises(DownloadError, match="timed out"):
        fetch(base_url + "slow.mp4", out_dir, socket_timeout=0.5, retries=0)


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/clip.avi", "file:///etc/passwd", "/etc/passwd", "clip.avi"])
def test_only_http_urls(url, out_dir):
    with pytest.raises(DownloadError, match="not an http"):
        fetch(url, out_dir)


@pytest.mark.parametrize("route", ["..%2F..%2F..%2Fescaped%2Fevil.mp4", "hostile.html", "attachment?id=1"])
def test_hostile_titles_stay_inside_output_dir(base_url, tmp_path, route):
    out_dir = tmp_path / "a" / "b" / "out"
    path = fetch(base_url + route, out_dir)
    assert path.parent == out_dir.resolve()
    assert not path.name.startswith((".", "-")) and ".." not in path.name and "/" not in path.name
    assert files_under(tmp_path) == [path]  # nothing written anywhere else under tmp_path
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "a" / "escaped").exists()


def test_playlist_takes_first_entry_or_refuses(base_url, site, out_dir):
    path = fetch(base_url + "two.html", out_dir)
    assert path.read_bytes() == (site / "bunny.mp4").read_bytes()  # the page's first <video>
    with pytest.raises(DownloadError, match="playlist"):
        fetch(base_url + "two.html", out_dir / "refused", playlist="refuse")
    assert files_under(out_dir / "refused") == []


@pytest.mark.parametrize("route", ["bunny.mp4", "stream.mp4"])  # with and without Content-Length
def test_size_limit_removes_partial_file(base_url, out_dir, route):
    with pytest.raises(DownloadError, match="max_filesize"):
        fetch(base_url + route, out_dir, max_filesize=50_000)
    assert files_under(out_dir) == []


def test_duration_limit_removes_file(base_url, out_dir):
    with pytest.raises(DownloadError, match="max_duration"):
        fetch(base_url + "bunny.mp4", out_dir, max_duration=1.0)
    assert files_under(out_dir) == []


def test_serve_directory_rejects_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError), serve_directory(tmp_path / "missing"):
        pass


def test_failure_message_ends_with_ytdlp_last_warning(base_url, out_dir):
    """yt-dlp's warnings are no longer suppressed: its last one (here the generic-extractor fallback) ends the line."""
    with pytest.raises(DownloadError, match="no video found") as info:
        fetch(base_url + "page.html", out_dir)
    assert "yt-dlp's last warning: Falling back on generic information extractor" in str(info.value)
    assert "\n" not in str(info.value)


def test_ytdlp_reports_a_javascript_runtime_in_the_venv():
    """`python -m yt_dlp --verbose` (no URL: nothing is fetched) finds Deno, which YouTube extraction needs."""
    done = subprocess.run([sys.executable, "-m", "yt_dlp", "--verbose"], capture_output=True, text=True, timeout=120)
    line = next((line for line in done.stderr.splitlines() if "JS runtimes:" in line), "")
    assert "deno" in line and "none" not in line, done.stderr[-2000:]
    assert js_runtime() is not None and js_runtime()["name"] == "deno"


def test_js_runtime_falls_back_to_the_deno_package(monkeypatch):
    """Where yt-dlp's own search misses Deno (e.g. pip install --user), download_video passes the package's binary."""
    from yt_dlp.globals import supported_js_runtimes

    real = supported_js_runtimes.value["deno"]

    class Missing(real):
        def _info(self):
            return None if self._path is None else super()._info()

    monkeypatch.setitem(supported_js_runtimes.value, "deno", Missing)
    runtimes = js_runtimes()
    assert runtimes["deno"].get("path") and real(path=runtimes["deno"]["path"]).info is not None
    assert js_runtime()["path"] == runtimes["deno"]["path"]


def test_a_killed_downloads_partial_file_is_removed_by_the_next_download(base_url, site, out_dir, tmp_path):
    """SIGKILL mid-download leaves its temporary folder and .part file; the next download into the folder removes
    them (a live download's folder is never touched)."""
    code = ("import sys; from helpers.download import download_video\n"
            "download_video(sys.argv[1], sys.argv[2], progress=False, timeout=60)")
    child = subprocess.Popen([sys.executable, "-c", code, base_url + "trickle/bunny.mp4", str(out_dir)],
                             cwd=Path(__file__).resolve().parents[1])
    try:
        for _ in range(200):  # until the partial file exists
            if list(out_dir.glob(".download.tmp-*/*.part")):
                break
            time.sleep(0.1)
        else:
            pytest.fail("no partial file appeared")
    finally:
        child.kill()
        child.wait()
    (leftover,) = out_dir.glob(".download.tmp-*")
    path = fetch(base_url + "clip.avi", out_dir)
    assert not leftover.exists() and files_under(out_dir) == [path]
