"""A local HTTP server for a folder: how the tests fetch "videos by URL" without touching
the internet (CI has no network; paper 001 tested on YouTube URLs). Test-only: notebook 04
starts the standard library's server itself. Beyond ``http.server`` this adds a context
manager, a handler hook for tests that need odd responses (:class:`TrickleHandler`: a server
that stalls), and silence for clients that hang up early (yt-dlp reads 512 bytes to sniff a
file, or stops at a size limit).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """``SimpleHTTPRequestHandler`` that does not log every request to stderr."""

    def log_message(self, format: str, *args) -> None:
        pass


class TrickleHandler(QuietHandler):
    """``/trickle/<file>``: the file's first 4 KiB at once (yt-dlp sniffs it), then one byte every 0.25 s
    (never long enough for a socket timeout), giving up after 20 s; other paths as usual."""

    def do_GET(self) -> None:
        if not self.path.startswith("/trickle/"):
            super().do_GET()
            return
        data = (Path(self.directory) / self.path.removeprefix("/trickle/")).read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[:4096])
        for byte in data[4096:4096 + 80]:
            self.wfile.flush()
            time.sleep(0.25)
            self.wfile.write(bytes([byte]))


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # a client that stops reading (yt-dlp sniffs 512 bytes, or aborts at a size limit) is normal
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextlib.contextmanager
def serve_directory(
    directory: str | os.PathLike,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    handler: type[http.server.SimpleHTTPRequestHandler] = QuietHandler,
) -> Iterator[str]:
    """Serve ``directory`` over HTTP from a background thread while the block runs.

    Example::

        with serve_directory(folder) as base_url:
            path = download_video(base_url + "clip.mp4", out_dir)

    Args:
        directory: Folder whose files are served (``SimpleHTTPRequestHandler`` rules:
            no path outside it is reachable).
        host: Interface to bind; the default keeps the server local to this machine.
        port: TCP port; 0 picks a free one.
        handler: Request handler class (a subclass may add headers or routes).

    Yields:
        The base URL, e.g. ``"http://127.0.0.1:41234/"``.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory}: folder to serve does not exist")
    server = _QuietServer((host, port), functools.partial(handler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, name=f"serve:{directory.name}", daemon=True)
    thread.start()
    try:
        bound_host, bound_port = server.server_address[:2]
        yield f"http://{bound_host}:{bound_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def closed_port_url(*, host: str = "127.0.0.1") -> str:
    """A URL on a local port that nothing listens on (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port = sock.getsockname()[1]
    return f"http://{host}:{port}/video.mp4"
