"""A live MPEG-TS stream on 127.0.0.1, written at real time: what the live tests and the benchmark classify.

    python -m benchmarks.live_stream [--seconds 4] [--fps 25] [--size 96] [--drop-after S] [--action bright]

Prints ``port N`` once listening, then answers one GET with an endless-looking ``video/mp2t`` body that PyAV
muxes as it encodes (H.264, zero latency), one frame every 1/fps seconds; ``--drop-after S`` cuts the connection
after S seconds, as a lost network would. Prints ``finished`` when the last frame is written. For the live tests
and ``make bench`` (:func:`start` runs it): the standard library's HTTP server and PyAV, no ffmpeg binary needed.
"""

from __future__ import annotations

import argparse
import http.server
import os
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np


def frames(*, seconds: float, fps: int, size: int, action: str):
    """RGB uint8 ``(size, size, 3)`` frames: a square moving over a background, bright or dark (one action)."""
    level = 200 if action == "bright" else 40
    rng = np.random.default_rng(0)
    for i in range(int(seconds * fps)):
        frame = np.full((size, size, 3), level, np.uint8)
        x = (4 * i) % (size - 16)
        frame[size // 3:size // 3 + 16, x:x + 16] = 255 - level
        yield np.clip(frame.astype(np.int16) + rng.integers(-8, 9, frame.shape), 0, 255).astype(np.uint8)


def stream_to(out, *, seconds: float, fps: int, size: int, action: str, drop_after: float | None) -> None:
    """Mux the frames as MPEG-TS into the binary file object ``out``, paced at ``fps``."""
    with av.open(out, "w", format="mpegts", container_options={"flush_packets": "1"}) as container:
        stream = container.add_stream("libx264", rate=fps, options={"tune": "zerolatency", "preset": "ultrafast"})
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        started = time.monotonic()
        for i, rgb in enumerate(frames(seconds=seconds, fps=fps, size=size, action=action)):
            if drop_after is not None and i >= drop_after * fps:
                raise ConnectionAbortedError("dropped on purpose")
            time.sleep(max(0.0, started + i / fps - time.monotonic()))
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
            out.flush()
        container.mux(stream.encode())


def start(*args: str) -> tuple[subprocess.Popen, str]:
    """This stream in a subprocess (``args``: its command line); returns it and its URL once it listens."""
    root = Path(__file__).resolve().parent.parent
    writer = subprocess.Popen([sys.executable, "-m", "benchmarks.live_stream", *args], cwd=root, stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "PYTHONPATH": str(root)})
    port = int(writer.stdout.readline().split()[1])
    return writer, f"http://127.0.0.1:{port}/live.ts"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--drop-after", type=float, default=None)
    parser.add_argument("--action", choices=("bright", "dark"), default="bright")
    args = parser.parse_args(argv)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "video/mp2t")
            self.end_headers()
            try:
                stream_to(self.wfile, seconds=args.seconds, fps=args.fps, size=args.size, action=args.action,
                          drop_after=args.drop_after)
            except (ConnectionError, av.FFmpegError, OSError):
                self.close_connection = True
            print("finished", flush=True)

        def log_message(self, format: str, *args) -> None:
            pass

    with http.server.HTTPServer(("127.0.0.1", 0), Handler) as server:
        print(f"port {server.server_address[1]}", flush=True)
        server.handle_request()  # one client, then exit
    return 0


if __name__ == "__main__":
    sys.exit(main())
