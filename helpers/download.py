"""Fetch a video by URL with yt-dlp (paper 001 tested its model on YouTube videos fetched by
URL with pafy, which has been broken against YouTube since 2021).

YouTube, Vimeo and plain direct links (``https://host/clip.mp4``) all go through
:func:`download_video`, which calls yt-dlp's Python API (no subprocess, no shell) with
safety limits on by default:

* file names are yt-dlp's *restricted* names (ASCII, no path separators, no leading
  dots) from a fixed template, and the final path is checked to lie inside
  ``output_dir``: a hostile title cannot write anywhere else;
* a socket timeout, a size limit (checked against ``Content-Length`` *and* while
  streaming) and a duration limit (checked from the site's metadata before the
  download and from the file itself after it, since direct links carry none);
* an overall deadline (:data:`DEFAULT_DOWNLOAD_TIMEOUT_S`): a server that trickles a byte
  every few seconds never trips the socket timeout, so the whole download has one too;
* a file is reused only when it was fetched from the same URL: its name ends with
  :func:`url_key` (the normalised URL and the extractor's video id), never the site's file
  name alone (two hosts, or two folders, serving ``clip.mp4`` are two videos);
* partial files are written to a temporary folder of their own that is removed whatever
  happens (a killed run's folder by the next download into the same folder,
  :func:`helpers.atomic.temp_path`), so a failed download leaves nothing behind;
* every failure is one :class:`DownloadError` with a one-line message, which ends with
  yt-dlp's own last warning when it gave one (e.g. YouTube's "no JavaScript runtime").

YouTube needs a JavaScript runtime now: ``requirements.txt`` installs ``yt-dlp[default,deno]``
(the ``yt-dlp-ejs`` scripts and a Deno binary from PyPI), and :func:`js_runtimes` hands the
Deno binary to yt-dlp explicitly when yt-dlp's own search (Python's scripts folder, ``PATH``)
misses it, e.g. after ``pip install --user`` or with a venv that is not activated.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import signal
import threading
import time
import unicodedata
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

from helpers.atomic import temp_path
from helpers.video import VideoReadError, decode_frames, open_video

#: yt-dlp format selection: a stream we can decode without ffmpeg (no merging of
#: separate audio/video streams), H.264 first, at most 480p (frames are resized to 64x64
#: anyway). ``?`` lets direct links, whose height and codec are unknown, pass the filters.
#: The fall-backs may pick VP9 or AV1, which PyAV decodes too; H.264 stays first for speed
#: (``make bench``, ``codecs``, three runs: the same 480p video takes 1.39-1.40x H.264's
#: decoding time as VP9 and 1.42-1.52x as AV1).
DEFAULT_FORMAT = (
    "bv*[vcodec^=avc1][height<=?480]/b[vcodec^=avc1][height<=?480]"
    "/bv*[ext=mp4][height<=?480]/b[height<=?480]/bv*/b"
)
#: Output template inside ``output_dir``: title and id, each trimmed (bytes), then :func:`url_key`; never a folder.
OUTPUT_TEMPLATE = "%(title).80B-%(id).40B-%(url_key)s.%(ext)s"
#: The one definition of the download limits: :func:`download_video`'s defaults, ``classify``'s
#: (``--max-filesize-mb``, ``--max-duration``, ``--download-timeout``) and the demo page's. Bytes, seconds of video,
#: seconds the whole download may take (200 MiB at 2.7 Mbit/s).
DOWNLOAD_LIMITS = {"max_filesize": 200 * 2**20, "max_duration": 600.0, "timeout": 600.0}
DEFAULT_DOWNLOAD_TIMEOUT_S = DOWNLOAD_LIMITS["timeout"]
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_url(url: str) -> str:
    """``url`` with its scheme and host in lower case, no default port, no ``#fragment``, ``/`` for an empty path."""
    parts = urllib.parse.urlsplit(url.strip())
    netloc = parts.netloc.lower().removesuffix(f":{_DEFAULT_PORTS.get(parts.scheme.lower())}")
    return urllib.parse.urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))


def url_key(url: str, *, extractor: str | None = None, video_id: str | None = None) -> str:
    """12 hex digits of the SHA-256 of the normalised URL and the extractor's video id: the cache key of a download."""
    return hashlib.sha256(f"{normalise_url(url)}\n{extractor or ''}:{video_id or ''}".encode()).hexdigest()[:12]


class DownloadError(ValueError):
    """A video that could not be fetched; the message is one line: ``<url>: <reason>``."""

    def __init__(self, url: str, reason: str):
        self.url = url
        self.reason = " ".join(str(reason).split())  # one line, whatever the cause said
        super().__init__(f"{url}: {self.reason}")


class _TooLarge(Exception):
    """Raised from the progress hook to stop a download that passed ``max_filesize``."""


class _PastDeadline(BaseException):
    """Raised when a download's overall time is up; a BaseException, so no ``except Exception`` in yt-dlp keeps it."""


@contextlib.contextmanager
def _deadline(seconds: float | None) -> Iterator[float]:
    """Raise :class:`_PastDeadline` in the block after ``seconds`` (yields the monotonic end time).

    A timer signal (SIGALRM) interrupts a read that waits on a trickling socket, which nothing
    else in yt-dlp or the standard library bounds. Signals reach the main thread only; elsewhere
    the progress hook checks the yielded end time between chunks, as it does on Windows (no SIGALRM).
    (It replaces any outer real-time timer; nothing in this package sets one.)
    """
    end = time.monotonic() + seconds if seconds is not None else float("inf")
    if seconds is None or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGALRM"):
        yield end
        return

    def on_alarm(signum, frame):
        raise _PastDeadline

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield end
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def js_runtimes() -> dict[str, dict]:
    """yt-dlp's ``js_runtimes`` option: Deno where yt-dlp finds it, else the ``deno`` package's binary."""
    import yt_dlp  # noqa: F401  (registers the runtimes)
    from yt_dlp.globals import supported_js_runtimes

    if supported_js_runtimes.value["deno"]().info is not None:
        return {"deno": {}}
    try:
        from deno import find_deno_bin

        return {"deno": {"path": find_deno_bin()}}
    except (ImportError, OSError, RuntimeError):  # no deno package: yt-dlp reports "JS runtimes: none"
        return {"deno": {}}


def js_runtime() -> dict | None:
    """The JavaScript runtime yt-dlp uses for YouTube: ``{"name", "version", "path"}``, None when none."""
    from yt_dlp.globals import supported_js_runtimes

    for name, config in js_runtimes().items():
        info = supported_js_runtimes.value[name](path=config.get("path")).info
        if info is not None and info.supported:
            return {"name": info.name, "version": info.version, "path": info.path}
    return None


class _QuietLogger:
    """yt-dlp logger that keeps messages instead of printing them (errors become DownloadError,
    whose message ends with the last warning)."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.warnings: list[str] = []

    def debug(self, msg: str) -> None:
        if "max-filesize" in msg:  # yt-dlp's only word on a Content-Length over the limit
            self.messages.append(msg)

    def info(self, msg: str) -> None:
        pass

    def warning(self, msg: str) -> None:
        self.messages.append(msg)
        self.warnings.append(re.sub(r"^(WARNING:\s*)?(\[[^\]]+\]\s*)?", "", msg.strip()))

    def error(self, msg: str) -> None:
        self.messages.append(msg)


def _progress_hook(*, max_filesize: int | None, progress: bool, end: float = float("inf")):
    """A yt-dlp progress hook: a tqdm bar, and the size limit and deadline (monotonic ``end``) enforced while
    streaming."""
    from tqdm.auto import tqdm

    state: dict = {"bar": None}

    def hook(status: dict) -> None:
        if time.monotonic() > end:
            raise _PastDeadline
        done = status.get("downloaded_bytes") or 0
        if max_filesize is not None and done > max_filesize:
            raise _TooLarge(f"file is larger than max_filesize={max_filesize} bytes")
        if not progress:
            return
        bar = state["bar"]
        if bar is None and status.get("status") == "downloading":
            total = status.get("total_bytes") or status.get("total_bytes_estimate")
            name = Path(status.get("filename") or "video").name
            bar = state["bar"] = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                                      desc=f"Downloading {name[:40]}", leave=False)
        if bar is not None:
            bar.update(done - bar.n)
            if status.get("status") in {"finished", "error"}:
                bar.close()
                state["bar"] = None

    return hook


def _safe_name(text: object, *, default: str) -> str:
    """ASCII letters, digits, ``-`` and ``_`` only, no leading dots or dashes: a file-name part."""
    ascii_text = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9_-]+", "_", ascii_text).strip("_-")[:80] or default


def _reason(err: BaseException) -> str:
    """A one-line reason for a yt-dlp failure (HTTP status, connection, no video ...)."""
    from yt_dlp.networking.exceptions import HTTPError, TransportError
    from yt_dlp.utils import ExtractorError, UnsupportedError

    seen: set[int] = set()
    cause: BaseException | None = err
    while cause is not None and id(cause) not in seen:  # walk exc_info / cause chains
        seen.add(id(cause))
        if isinstance(cause, _TooLarge):
            return str(cause)
        if isinstance(cause, HTTPError):
            return f"HTTP error {cause.status} {cause.reason}".strip()
        if isinstance(cause, UnsupportedError):
            return "no video found at this URL (the page holds nothing yt-dlp can extract)"
        if isinstance(cause, TransportError):
            inner = cause.cause or cause.__cause__
            text = str(inner or cause)
            if "refused" in text.lower():
                return "connection refused (is the host up and the port right?)"
            if "timed out" in text.lower():
                return "connection timed out"
            return f"network error: {text}"
        nxt = getattr(cause, "exc_info", None)
        nxt = nxt[1] if isinstance(nxt, tuple) and len(nxt) > 1 else None
        if isinstance(cause, ExtractorError) and cause.cause is not None:
            nxt = cause.cause
        cause = nxt or cause.__cause__ or cause.__context__
    text = re.sub(r"^(ERROR:\s*)?(\[[^\]]+\]\s*)?", "", str(err).strip())  # "ERROR: [youtube] " prefixes
    return text.splitlines()[0] if text else type(err).__name__


def _with_warning(reason: str, warnings: list[str]) -> str:
    """``reason`` plus yt-dlp's last warning (often the real cause, e.g. a missing JavaScript runtime)."""
    last = warnings[-1].splitlines()[0] if warnings and warnings[-1] else ""
    return f"{reason} (yt-dlp's last warning: {last})" if last and last not in reason else reason


def _check_video(path: Path, *, max_duration: float | None) -> float:
    """Duration of a downloaded file in seconds; raises ValueError if it is not a video or too long."""
    try:
        with open_video(path) as container:
            next(decode_frames(container))
            duration = (container.duration or 0) / 1e6  # microseconds (AV_TIME_BASE)
    except (VideoReadError, StopIteration):
        raise ValueError("the downloaded file is not a video FFmpeg can decode") from None
    if max_duration is not None and duration > max_duration:
        raise ValueError(f"video is {duration:.0f} s long, over max_duration={max_duration:g} s")
    return duration


def download_video(
    url: str,
    output_dir: str | os.PathLike,
    *,
    max_filesize: int | None = DOWNLOAD_LIMITS["max_filesize"],
    max_duration: float | None = DOWNLOAD_LIMITS["max_duration"],
    socket_timeout: float = 20.0,
    timeout: float | None = DOWNLOAD_LIMITS["timeout"],
    playlist: str = "first",
    video_format: str = DEFAULT_FORMAT,
    retries: int = 2,
    progress: bool = True,
) -> Path:
    """Download one video from a URL (YouTube, Vimeo, a direct ``.mp4``/``.avi`` link ...).

    A file that is already in ``output_dir`` from the same URL (same :func:`url_key`) is
    reused, not fetched again.

    Playlists: with ``playlist="first"`` (default) a playlist URL yields its first
    entry only; ``playlist="refuse"`` raises instead. A video URL that also names a
    playlist (YouTube ``watch?v=...&list=...``) always means the video alone.

    Args:
        url: An ``http(s)`` URL.
        output_dir: Folder for the file (created); no part of the name comes from a path.
        max_filesize: Largest accepted file in bytes (None: no limit).
        max_duration: Longest accepted video in seconds (None: no limit).
        socket_timeout: Seconds without data before a connection counts as dead.
        timeout: Seconds the whole download may take (a stalled or trickling server ends
            with one line); None: no limit. Default :data:`DEFAULT_DOWNLOAD_TIMEOUT_S`.
        playlist: ``"first"`` or ``"refuse"``, see above.
        video_format: yt-dlp format selector; the default needs no ffmpeg.
        retries: Retries of a failed HTTP request or fragment.
        progress: Show a tqdm progress bar.

    Returns:
        Path of the downloaded file, inside ``output_dir``.

    Raises:
        DownloadError: Bad URL, unreachable host, HTTP error, no video on the page,
            a playlist with ``playlist="refuse"``, a file over a limit, a download past
            ``timeout``, or a file that is not a decodable video. Nothing partial is left behind.
    """
    import yt_dlp

    if playlist not in {"first", "refuse"}:
        raise ValueError(f"playlist must be 'first' or 'refuse', got {playlist!r}")
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise DownloadError(url, "not an http(s) URL")
    output_dir = Path(output_dir).resolve()
    output_dir.mkdir(parents=True, exist_ok=True)
    # partial files go to a folder of their own next to the output, removed whatever happens (a killed run's: next time)
    tmp_dir = temp_path(output_dir / ".download", directory=True)
    rejected: list[str] = []
    finished: list[str] = []

    def match_filter(info: dict, *, incomplete: bool) -> str | None:
        duration = info.get("duration")
        if max_duration is not None and duration is not None and duration > max_duration:
            rejected.append(f"video is {duration:.0f} s long, over max_duration={max_duration:g} s")
            return rejected[-1]
        size = info.get("filesize") or info.get("filesize_approx")
        if max_filesize is not None and size is not None and size > max_filesize:
            rejected.append(f"file is {size} bytes, over max_filesize={max_filesize} bytes")
            return rejected[-1]
        return None

    logger = _QuietLogger()
    options = {
        "paths": {"home": str(output_dir), "temp": str(tmp_dir)},
        "outtmpl": {"default": OUTPUT_TEMPLATE},
        "restrictfilenames": True,
        "windowsfilenames": True,
        "format": video_format,
        "noplaylist": True,
        "playlist_items": "1",
        "socket_timeout": socket_timeout,
        "max_filesize": max_filesize,
        "match_filter": match_filter,
        "retries": retries,
        "fragment_retries": retries,
        "extractor_retries": retries,
        "logger": logger,  # warnings reach it (no `no_warnings`): the last one ends a failure's message
        "js_runtimes": js_runtimes(),
        "quiet": True,
        "noprogress": True,
        "progress_hooks": [],  # set below, with the deadline
        "post_hooks": [finished.append],
        "cachedir": False,  # nothing written to ~/.cache
        "updatetime": False,  # keep the download time as mtime
        "color": {"stdout": "no_color", "stderr": "no_color"},
    }
    try:
        try:
            with _deadline(timeout) as end, yt_dlp.YoutubeDL(options) as ydl:
                ydl.add_progress_hook(_progress_hook(max_filesize=max_filesize, progress=progress, end=end))
                info = ydl.extract_info(url, download=False)
                if info is None:
                    raise DownloadError(url, rejected[-1] if rejected else "yt-dlp returned nothing")
                if info.get("_type") in {"playlist", "multi_video"}:
                    if playlist == "refuse":
                        raise DownloadError(url, "is a playlist; pass one video's URL (or playlist='first')")
                    entries = [e for e in info.get("entries") or [] if e]
                    if not entries:
                        raise DownloadError(url, rejected[-1] if rejected else "playlist has no downloadable entry")
                    info = entries[0]
                # titles and ids are the site's (or the attacker's) text: reduce them to safe name parts
                info["title"] = _safe_name(info.get("title"), default="video")
                info["url_key"] = url_key(url, extractor=info.get("extractor_key"), video_id=info.get("id"))
                info["id"] = _safe_name(info.get("id"), default="id")
                ydl.process_ie_result(info, download=True)
        except DownloadError:
            raise
        except _PastDeadline:
            raise DownloadError(url, f"the download took longer than timeout={timeout:g} s (a stalled or very slow "
                                     "server; --download-timeout)") from None
        except (yt_dlp.utils.YoutubeDLError, _TooLarge, OSError) as err:
            raise DownloadError(url, _with_warning(_reason(err), logger.warnings)) from err
        except Exception as err:  # an extractor bug: still one line, with the exception's type
            raise DownloadError(url, _with_warning(f"unexpected {type(err).__name__}: {err}", logger.warnings)) from err
        if rejected:
            raise DownloadError(url, rejected[-1])
        if not finished:  # yt-dlp skipped it quietly (e.g. Content-Length over max_filesize)
            size = next((re.search(r"\((\d+) bytes >", m) for m in logger.messages if "max-filesize" in m), None)
            if size is not None:
                raise DownloadError(url, f"file is {size.group(1)} bytes, over max_filesize={max_filesize} bytes")
            raise DownloadError(url, f"nothing was downloaded ({'; '.join(logger.messages) or 'no reason given'})")
        path = Path(finished[-1]).resolve()
        if path.parent != output_dir or not path.is_file():  # defence in depth: never seen with restricted names
            if path.is_file():
                path.unlink()
            raise DownloadError(url, f"refusing a file written outside {output_dir}: {path}")
        try:
            if max_filesize is not None and path.stat().st_size > max_filesize:
                raise ValueError(f"file is {path.stat().st_size} bytes, over max_filesize={max_filesize} bytes")
            _check_video(path, max_duration=max_duration)
        except ValueError as err:
            path.unlink(missing_ok=True)
            raise DownloadError(url, str(err)) from None
        return path
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
