"""Get the real datasets, UCF50 and UCF101: download, unpack, validate (``make data``).

A tool, not part of the ``helpers`` package: what the datasets are (classes, groups,
file-name quirks, official splits) is the catalogue :mod:`helpers.ucf`; where they come
from (:data:`SOURCES`: homepage, archives, target folder, citation) and how to fetch them
is this script.

* :func:`download` fetches a URL with resume (HTTP ``Range`` on a ``.part`` file),
  a progress bar, a socket timeout, retries after a cut connection, a size and
  (when known) SHA-256 check, and an atomic rename. Every failure is one line.
* :func:`extract_archive` unpacks the RAR archives with an external tool, tried in
  the order of :data:`EXTRACTORS`: ``unar`` first (Debian/Ubuntu ``main``, Homebrew;
  reads every RAR version including solid archives), then ``unrar``, ``bsdtar``
  (libarchive: fails on some solid RAR4 archives), ``7zz``/``7z`` (Debian's builds
  have no RAR codec). Zip files (the UCF101 split lists) use the standard library.
* :func:`fetch` does it all for one dataset and checks the result with
  :func:`validate_layout`.

Command line (``make data DATASET=ucf50`` calls it)::

    python scripts/ucf_data.py download ucf50|ucf101 [--dest data]
    python scripts/ucf_data.py extract ucf101 --archive UCF101.rar [--splits-archive X.zip] [--dest data]
    python scripts/ucf_data.py validate ucf50 data/UCF50 [--classes TaiChi,Swing]
    python scripts/ucf_data.py info [ucf50|ucf101]
    python scripts/ucf_data.py check-extractor

Neither UCF page publishes a checksum or an exact size, so none is written here:
the download is checked against the size the server announces, and ``--sha256``
verifies a checksum you trust (the downloader prints the SHA-256 of what it got).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path

from tqdm.auto import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from a clone without install

from helpers import atomic  # noqa: E402

# the split-list readers official_split uses too (one reading of the official files)
from helpers.ucf import (  # noqa: E402
    SPLITS_FOLDER,
    UCF50,
    UCF101,
    DatasetInfo,
    _find_splits_dir,
    _names,
    _read_class_ind,
    _read_split_list,
    dataset_info,
    split_file_names,
)
from helpers.video import VIDEO_EXTENSIONS  # noqa: E402

USER_AGENT = "helpers-datasets/0.1 (+python-urllib)"
#: External RAR extractors, tried in this order. Value: command with ``{archive}`` and ``{out}``.
EXTRACTORS: dict[str, tuple[str, ...]] = {
    "unar": ("unar", "-quiet", "-force-overwrite", "-no-directory", "-output-directory", "{out}", "{archive}"),
    "unrar": ("unrar", "x", "-o+", "-idq", "-y", "{archive}", "{out}/"),
    "bsdtar": ("bsdtar", "-x", "-f", "{archive}", "-C", "{out}"),
    "7zz": ("7zz", "x", "-y", "-bd", "-o{out}", "{archive}"),
    "7z": ("7z", "x", "-y", "-bd", "-o{out}", "{archive}"),
}
_TRANSIENT_HTTP = {408, 429, 500, 502, 503, 504}  # worth a retry when resuming
_TELLING = re.compile(r"unavailable|unsupported|not supported|cannot|corrupt|fail|error", re.IGNORECASE)
INSTALL_HINT = "install unar: sudo make extractor, or sudo apt-get install unar (Debian/Ubuntu), brew install unar"
_UCF_FILE_RE = re.compile(r"^v_(?P<tag>[A-Za-z0-9]+)_g(?P<group>\d+)_c(?P<clip>\d+)(?P<ext>\.[A-Za-z0-9]+)$")
_MAX_PROBLEMS = 60  # lines in a validate_layout message; the rest are counted


def validate_layout(dataset_dir: str | os.PathLike, *, layout: str, class_names: Sequence[str] | None = None,
                    splits_dir: str | os.PathLike | None = None) -> dict[str, int]:
    """Check a folder against the UCF50 or UCF101 layout and name everything that is wrong.

    Checked: every expected class folder exists and holds videos named
    ``v_<Class>_gNN_cNN.<video extension>`` with the class of its folder (the archives'
    own spellings such as ``v_Billards_*`` and ``v_HandStandPushups_*`` are accepted) and
    a group in ``1..num_groups``; no unexpected folders or files (hidden files are
    ignored); for UCF101, the split lists (``classInd.txt``, ``trainlist0N.txt``,
    ``testlist0N.txt``) exist, list the 101 classes in order, and agree with the videos
    on disk. Videos are not decoded (:func:`create_dataset` reports unreadable ones).

    Args:
        dataset_dir: ``<dataset_dir>/<ClassName>/<videos>``.
        layout: ``"ucf50"`` or ``"ucf101"``.
        class_names: Check only these classes (e.g. the paper's four); the other folders
            of the dataset may then be absent. None means every class.
        splits_dir: Folder of the UCF101 split lists; None looks in
            ``<dataset_dir>/ucfTrainTestlist`` then ``<dataset_dir>/../ucfTrainTestlist``.

    Returns:
        Number of videos per checked class, in class order.

    Raises:
        ValueError: One line per problem (folder or file named relative to
            ``dataset_dir``; long lists are cut with a count).
    """
    info = dataset_info(layout)
    root = Path(dataset_dir)
    if not root.is_dir():
        raise ValueError(f"{root}: dataset folder does not exist")
    expected = list(info.class_names) if class_names is None else list(class_names)
    unknown = [name for name in expected if name not in info.class_names]
    if unknown:
        raise ValueError(f"not {info.name} classes: {', '.join(unknown)}")
    owner_of_tag = {}  # casefolded class tag of a file name -> class
    for name in info.class_names:
        for tag in (name, *info.file_tags.get(name, ())):
            owner_of_tag[tag.casefold()] = name
    folder_spellings = {name.casefold(): name for name in info.class_names}
    problems: list[str] = []

    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        if not entry.is_dir():
            problems.append(f"{entry.name}: unexpected file at the top level (videos go in <Class>/)")
        elif entry.name not in info.class_names and not (info.splits and entry.name == SPLITS_FOLDER):
            right = folder_spellings.get(entry.name.casefold())
            problems.append(f"{entry.name}/: unexpected folder, not a {info.name} class"
                            + (f" (the class is spelled {right})" if right else ""))
    missing = [name for name in expected if not (root / name).is_dir()]
    if missing:
        problems.append(f"missing class folders ({len(missing)} of {len(expected)}): {', '.join(missing)}")

    counts: dict[str, int] = {}
    present: set[str] = set()  # every file on disk under a checked class, as "<Class>/<file>"
    valid: set[str] = set()
    for name in expected:
        if name in missing:
            continue
        counts[name] = 0
        for path in sorted((root / name).iterdir()):
            if path.name.startswith("."):
                continue
            rel = f"{name}/{path.name}"
            if path.is_dir():
                problems.append(f"{rel}/: unexpected folder inside a class folder")
                continue
            present.add(rel)
            match = _UCF_FILE_RE.match(path.name)
            if match is None or match["ext"].lower() not in VIDEO_EXTENSIONS:
                problems.append(f"{rel}: name does not match v_<Class>_gNN_cNN.<video extension>")
            elif (owner := owner_of_tag.get(match["tag"].casefold())) is None:
                problems.append(f"{rel}: {match['tag']!r} in the file name is not a {info.name} class")
            elif owner != name:
                problems.append(f"{rel}: a {owner} video in the {name}/ folder")
            elif not 1 <= int(match["group"]) <= info.num_groups:
                problems.append(f"{rel}: group {int(match['group'])} is outside 1..{info.num_groups}")
            elif path.stat().st_size == 0:
                problems.append(f"{rel}: empty file (0 bytes)")
            else:
                valid.add(rel)
                counts[name] += 1
        if counts[name] == 0:
            problems.append(f"{name}/: no videos")

    if info.splits:
        sdir = _find_splits_dir(root, splits_dir)
        needed = ["classInd.txt", *(f for split in info.splits for f in split_file_names(split))]
        absent = [f for f in needed if not (sdir / f).is_file()]
        if absent:
            problems.append(f"{sdir}: missing split files: {', '.join(absent)} (get them with "
                            f"'python scripts/ucf_data.py download {info.name}')")
        else:
            try:
                class_ind = _read_class_ind(sdir / "classInd.txt")
                if class_ind != list(info.class_names):
                    problems.append(f"{sdir / 'classInd.txt'}: does not list the {info.num_classes} "
                                    f"{info.name} classes in the official order")
                wanted = set(expected)
                for split in info.splits:
                    lists = split_file_names(split)
                    listed = {rel for f in lists for rel in _read_split_list(sdir / f, class_ind)
                              if rel.split("/")[0] in wanted}
                    if not_on_disk := sorted(listed - present):
                        problems.append(f"{' / '.join(lists)}: {len(not_on_disk)} listed videos are not on disk: "
                                        f"{_names(not_on_disk)}")
                    if not_listed := sorted(valid - listed):
                        problems.append(f"{len(not_listed)} videos are in neither {' nor '.join(lists)}: "
                                        f"{_names(not_listed)}")
            except ValueError as err:
                problems.append(str(err))

    if problems:
        lines = [f"  - {p}" for p in problems[:_MAX_PROBLEMS]]
        if len(problems) > _MAX_PROBLEMS:
            lines.append(f"  ... and {len(problems) - _MAX_PROBLEMS} more problems")
        header = f"{root} does not match the {info.name} layout ({len(problems)} problems):"
        raise ValueError("\n".join([header, *lines]))
    return counts


# --- Where the datasets come from ---


@dataclass(frozen=True)
class Archive:
    """One downloadable file.

    ``size`` and ``sha256`` are None where the publisher gives none (never guessed);
    ``approx_size`` is only for planning disk space.
    """

    url: str
    filename: str
    size: int | None = None
    sha256: str | None = None
    approx_size: str = "unknown"


@dataclass(frozen=True)
class Source:
    """Where a dataset of the catalogue (:class:`helpers.ucf.DatasetInfo`) comes from and goes to."""

    info: DatasetInfo
    title: str
    homepage: str
    folder: str  # the dataset's folder under --dest after extraction
    archive: Archive
    splits_archive: Archive | None = None  # the official split lists (UCF101)
    protocol: str = ""
    citation: str = ""


SOURCES: dict[str, Source] = {
    "ucf50": Source(
        info=UCF50,
        title="UCF50 - Action Recognition Data Set",
        homepage="https://www.crcv.ucf.edu/data/UCF50.php",
        folder="UCF50",
        archive=Archive(url="https://www.crcv.ucf.edu/data/UCF50.rar", filename="UCF50.rar",
                        approx_size="about 3 GB"),
        protocol="leave-one-group-out cross-validation over the 25 groups (helpers.splits.leave_one_group_out)",
        citation="K. K. Reddy and M. Shah, Recognizing 50 human action categories of web videos, "
                 "Machine Vision and Applications 24(5), 2013.",
    ),
    "ucf101": Source(
        info=UCF101,
        title="UCF101 - Action Recognition Data Set",
        homepage="https://www.crcv.ucf.edu/data/UCF101.php",
        folder="UCF101",
        archive=Archive(url="https://www.crcv.ucf.edu/data/UCF101/UCF101.rar", filename="UCF101.rar",
                        approx_size="about 6.5 GB"),
        splits_archive=Archive(
            url="https://www.crcv.ucf.edu/data/UCF101/UCF101TrainTestSplits-RecognitionTask.zip",
            filename="UCF101TrainTestSplits-RecognitionTask.zip", approx_size="under 1 MB"),
        protocol="the three official train/test splits (helpers.ucf.official_split); report their mean",
        citation="K. Soomro, A. R. Zamir and M. Shah, UCF101: A dataset of 101 human actions classes from "
                 "videos in the wild, CRCV-TR-12-01, 2012.",
    ),
}


def source(name: str) -> Source:
    """The :class:`Source` of ``"ucf50"`` or ``"ucf101"`` (case-insensitive)."""
    return SOURCES[dataset_info(name).name]


# --- Download ---


class DownloadError(RuntimeError):
    """A download that failed; the message is one line and says what to do."""


class ChecksumError(DownloadError):
    """The downloaded bytes are not the expected ones (size or SHA-256)."""


class ExtractError(RuntimeError):
    """An archive that could not be unpacked (tool missing or failing); one line."""


def sha256sum(path: str | os.PathLike, *, chunk_size: int = 1 << 22) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def _human(num_bytes: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(num_bytes) < 1024 or unit == "TB":
            return f"{num_bytes:.1f} {unit}" if unit != "B" else f"{int(num_bytes)} B"
        num_bytes /= 1024
    return f"{num_bytes:.1f} TB"


def _reason(err: BaseException) -> str:
    """A short, single-line reason for a network error."""
    if isinstance(err, urllib.error.URLError) and not isinstance(err, urllib.error.HTTPError):
        err = err.reason if isinstance(err.reason, BaseException) else err
    if isinstance(err, (socket.timeout, TimeoutError)):
        return "timed out"
    text = str(err) or type(err).__name__
    return " ".join(text.split())


def _content_range(header: str | None) -> tuple[int | None, int | None]:
    """``"bytes 100-199/1000"`` -> (100, 1000); ``"bytes */1000"`` -> (None, 1000)."""
    if not header or not header.startswith("bytes "):
        return None, None
    span, _, total = header[6:].partition("/")
    start = None if span.strip() == "*" else int(span.split("-")[0])
    return start, (int(total) if total.strip().isdigit() else None)


def _finish(part: Path, dest: Path, *, size: int | None, sha256: str | None, url: str) -> Path:
    """Verify the completed ``.part`` and rename it to ``dest``; delete it when it is wrong."""
    actual_size = part.stat().st_size
    if size is not None and actual_size != size:
        part.unlink()
        raise ChecksumError(f"{dest.name}: got {actual_size} bytes, expected {size}; deleted the download "
                            f"(run again to download it afresh from {url})")
    if sha256 is not None:
        actual = sha256sum(part)
        if actual.lower() != sha256.lower():
            part.unlink()
            raise ChecksumError(f"{dest.name}: SHA-256 mismatch (expected {sha256.lower()}, got {actual}); deleted "
                                f"the download (run again to download it afresh from {url})")
    os.replace(part, dest)  # atomic: dest is either absent or complete
    return dest


def download(
    url: str,
    dest: str | os.PathLike,
    *,
    size: int | None = None,
    sha256: str | None = None,
    timeout: float = 60.0,
    retries: int = 5,
    retry_wait: float = 2.0,
    chunk_size: int = 1 << 20,
    progress: bool = True,
) -> Path:
    """Download ``url`` to ``dest``, resuming an interrupted download.

    Bytes go to ``<dest>.part``; an existing ``.part`` is resumed with an HTTP
    ``Range`` request (``If-Range`` guards against a file that changed on the server;
    a server that ignores ``Range`` makes it start over). A connection cut mid-body
    is retried ``retries`` times, resuming each time. When complete, the file is
    checked against ``size`` (or the size the server announced) and ``sha256`` when
    given, then renamed to ``dest`` atomically. A wrong file is deleted, never kept
    as ``dest``. An existing ``dest`` that passes the checks is returned at once.

    Args:
        url: ``http(s)://`` URL.
        dest: Final file path.
        size: Expected size in bytes, or None (then the server's announced size is used).
        sha256: Expected hex SHA-256, or None to skip the check.
        timeout: Socket timeout in seconds for connecting and for each read.
        retries: Extra attempts after a connection cut mid-transfer.
        retry_wait: Seconds before the first retry; doubles each time (at most 60 s).
        chunk_size: Bytes per read.
        progress: Show a tqdm progress bar.

    Returns:
        ``dest`` as a ``Path``.

    Raises:
        DownloadError: Offline, HTTP error, timeout, or still cut after the retries
            (the ``.part`` is kept: run again to resume). One-line message.
        ChecksumError: Size or SHA-256 mismatch (the download is deleted).
    """
    dest = Path(dest)
    if dest.exists():
        if (size is None or dest.stat().st_size == size) and (sha256 is None or sha256sum(dest) == sha256.lower()):
            return dest
        raise ChecksumError(f"{dest} exists but does not match the expected size/checksum; delete it and run again")
    dest.parent.mkdir(parents=True, exist_ok=True)
    # the .part is the resume state: a fixed name a later run finds, so not a helpers.atomic temporary (whose
    # clean-up removes what dead processes left); publishing it is still one os.replace (_finish)
    part = dest.with_name(dest.name + ".part")
    meta_path = dest.with_name(dest.name + ".part.json")  # validators of the partial download, for If-Range
    meta = json.loads(meta_path.read_text()) if meta_path.exists() and part.exists() else {}
    if meta.get("url") not in (None, url):  # a .part of another URL is no use
        part.unlink(missing_ok=True)
        meta = {}
    attempt = 0
    while True:
        have = part.stat().st_size if part.exists() else 0
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})
        if have:
            request.add_header("Range", f"bytes={have}-")
            if meta.get("etag") or meta.get("last_modified"):
                request.add_header("If-Range", meta.get("etag") or meta["last_modified"])
        failure = None
        try:
            response = urllib.request.urlopen(request, timeout=timeout)
        except urllib.error.HTTPError as err:
            if err.code == 416 and have:  # nothing left to send: the .part may already be whole
                _, total = _content_range(err.headers.get("Content-Range"))
                if total == have or (total is None and size == have):
                    meta_path.unlink(missing_ok=True)
                    return _finish(part, dest, size=size, sha256=sha256, url=url)
                part.unlink()
                meta_path.unlink(missing_ok=True)
                meta = {}
                continue  # the .part is not a prefix of this file: start over
            if err.code not in _TRANSIENT_HTTP or attempt >= retries:
                raise DownloadError(f"HTTP {err.code} {err.reason} for {url}") from None
            failure = f"HTTP {err.code} {err.reason}"
        except (urllib.error.URLError, OSError, HTTPException) as err:
            if attempt == 0 or attempt >= retries:  # offline from the start, or for good
                host = urllib.parse.urlsplit(url).netloc
                kept = f"; partial download kept at {part}: run again to resume" if have else ""
                raise DownloadError(f"cannot reach {host}: {_reason(err)} (offline? with the archive at hand, use "
                                    f"'python scripts/ucf_data.py extract ... --archive FILE'){kept}") from None
            failure = f"reconnecting failed: {_reason(err)}"
        if failure is None:
            with response:
                failure, total = _receive(response, part, dest=dest, url=url, have=have, size=size, meta=meta,
                                          meta_path=meta_path, chunk_size=chunk_size, progress=progress)
            if failure is None:
                meta_path.unlink(missing_ok=True)
                return _finish(part, dest, size=size if size is not None else total, sha256=sha256, url=url)
        if attempt >= retries:
            raise DownloadError(f"download of {url} interrupted ({failure}); partial file kept at {part}: "
                                "run the same command again to resume")
        attempt += 1
        wait = min(retry_wait * 2 ** (attempt - 1), 60.0)
        tqdm.write(f"{dest.name}: {failure}; resuming in {wait:g} s (retry {attempt} of {retries})", file=sys.stderr)
        time.sleep(wait)


def _receive(response, part: Path, *, dest: Path, url: str, have: int, size: int | None, meta: dict,
             meta_path: Path, chunk_size: int, progress: bool) -> tuple[str | None, int | None]:
    """Append one response body to ``part``. Returns (why it stopped early or None, total size)."""
    if response.status == 206:
        start, total = _content_range(response.headers.get("Content-Range"))
        if start != have:  # a range we did not ask for: never splice it
            raise DownloadError(f"{url}: server sent bytes from {start}, asked for {have}")
        total = total or meta.get("total") or size
    else:  # 200: the full body (fresh download, or the server ignored Range, or the file changed)
        have = 0
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
    if size is not None and total is not None and total != size:
        raise ChecksumError(f"{url}: server announces {total} bytes, expected {size}")
    if have == 0:
        free = shutil.disk_usage(dest.parent).free
        if total is not None and free < total:
            raise DownloadError(f"not enough disk space in {dest.parent}: need {_human(total)}, {_human(free)} free")
        meta.clear()
        meta.update(url=url, etag=response.headers.get("ETag"), last_modified=response.headers.get("Last-Modified"),
                    total=total)
        atomic.write_text(meta_path, json.dumps(meta))
    received = have
    bar = tqdm(total=total, initial=have, unit="B", unit_scale=True, unit_divisor=1024, desc=dest.name,
               disable=not progress)
    try:
        with open(part, "ab" if have else "wb") as sink:
            while chunk := response.read(chunk_size):
                sink.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    except (OSError, HTTPException) as err:  # reset, timeout, IncompleteRead
        return f"{_reason(err)} at {received} of {total or '?'} bytes", total
    finally:
        bar.close()
    if total is not None and received < total:
        return f"connection closed at {received} of {total} bytes", total
    return None, total


# --- Extraction ---


def find_extractors() -> list[str]:
    """Names of the :data:`EXTRACTORS` found on ``PATH``, in the order they are tried."""
    return [name for name in EXTRACTORS if shutil.which(name)]


def _visible(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if not p.name.startswith(".") and p.name != "__MACOSX"]


def _top_folder(work: Path) -> Path:
    """The folder an archive was packed from: descend through single sub-folders, but
    not into a folder of files only (a dataset of one class keeps its root)."""
    folder = work
    while len(entries := _visible(folder)) == 1 and entries[0].is_dir():
        if folder != work and not any(p.is_dir() for p in _visible(entries[0])):
            break
        folder = entries[0]
    return folder


def extract_archive(archive: str | os.PathLike, out_dir: str | os.PathLike, *,
                    tools: Sequence[str] | None = None) -> Path:
    """Unpack ``archive`` into a new folder inside ``out_dir`` and return its top folder.

    Zip files use :mod:`zipfile`; anything else (RAR) the first working tool of
    :data:`EXTRACTORS` found on ``PATH`` (a tool that fails hands over to the next).
    Everything lands in a fresh ``out_dir/.extract-<archive>.tmp-*`` folder; the returned path is
    the single top-level folder inside it (e.g. ``.../UCF50``), for the caller to
    move into place.

    Args:
        archive: The archive file.
        out_dir: Folder on the same file system as the final destination.
        tools: Names of extractors to try, in order; None means every one found.

    Returns:
        The extracted top folder.

    Raises:
        ExtractError: No extractor installed, or every one failed (one line).
    """
    archive = Path(archive)
    if not archive.is_file():
        raise ExtractError(f"{archive}: archive not found")
    # a fresh folder (also removes what killed extractions left), renamed into place by the caller
    work = atomic.temp_path(Path(out_dir) / f".extract-{archive.stem}", directory=True)
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(work)  # zipfile drops absolute and '..' path parts
            return _top_folder(work)
        names = list(tools) if tools is not None else find_extractors()
        if not names:
            raise ExtractError(f"no RAR extractor found (tried {', '.join(EXTRACTORS)}); {INSTALL_HINT}")
        failures = []
        for name in names:
            command = [part.format(archive=str(archive), out=str(work)) for part in EXTRACTORS[name]]
            command[0] = shutil.which(command[0]) or command[0]
            tqdm.write(f"Extracting {archive.name} with {name} (large archives take minutes)...", file=sys.stderr)
            started = time.perf_counter()
            result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                    errors="replace")
            if result.returncode == 0 and any(work.iterdir()):
                tqdm.write(f"Extracted in {time.perf_counter() - started:.0f} s", file=sys.stderr)
                return _top_folder(work)
            lines = [line.strip() for line in (result.stderr or result.stdout).splitlines() if line.strip()]
            telling = [line for line in lines if _TELLING.search(line)]
            reason = (telling or lines or ["no output"])[0]
            failures.append(f"{name} exit {result.returncode}: {reason}")
            for child in work.iterdir():  # a half-extracted tree must not mix with the next tool's
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        raise ExtractError(f"could not extract {archive}: {'; '.join(failures)}; {INSTALL_HINT}")
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _install(extracted_top: Path, target: Path) -> Path:
    """Move an extracted folder to ``target`` (atomic rename) and drop the work folder."""
    work = next(p for p in [extracted_top, *extracted_top.parents] if p.name.startswith(".extract-"))
    if target.exists():
        shutil.rmtree(work, ignore_errors=True)
        raise ExtractError(f"{target} already exists; move it away first")
    os.replace(extracted_top, target)
    shutil.rmtree(work, ignore_errors=True)
    return target


def _split_lists_folder(top: Path, archive: Path) -> Path:
    """The folder holding ``classInd.txt`` inside an extracted split-lists archive."""
    found = top if (top / "classInd.txt").exists() else next((p.parent for p in top.rglob("classInd.txt")), None)
    if found is None:
        shutil.rmtree(next(p for p in [top, *top.parents] if p.name.startswith(".extract-")), ignore_errors=True)
        raise ExtractError(f"{archive}: no classInd.txt inside; is it the UCF101 split lists archive?")
    return found


def install_archives(name: str, *, archive: str | os.PathLike, splits_archive: str | os.PathLike | None = None,
                     dest: str | os.PathLike = "data", tools: Sequence[str] | None = None) -> Path:
    """Extract already downloaded archives of a dataset into ``dest`` and validate the result.

    The videos go to ``<dest>/<source.folder>`` (``data/UCF50``, ``data/UCF101``) and, for
    UCF101, the split lists to ``<dest>/ucfTrainTestlist`` (beside the class folders, so
    ``list_videos`` sees only classes; :func:`helpers.ucf.official_split` looks there).

    Returns:
        The dataset folder.

    Raises:
        ExtractError: Tool missing or failing, or the target folder already exists.
        ValueError: The extracted folder does not have the dataset's layout.
    """
    src = source(name)
    info = src.info
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / src.folder
    if src.splits_archive is not None and not (dest / SPLITS_FOLDER).is_dir():
        if splits_archive is None:
            raise ExtractError(f"{info.name} needs its split lists: pass --splits-archive "
                               f"{src.splits_archive.filename} (from {src.splits_archive.url})")
        top = extract_archive(splits_archive, dest, tools=tools)
        _install(_split_lists_folder(top, Path(splits_archive)), dest / SPLITS_FOLDER)
    if not target.exists():
        _install(extract_archive(archive, dest, tools=tools), target)
    counts = validate_layout(target, layout=info.name)
    print(f"{info.name}: {sum(counts.values())} videos in {len(counts)} classes at {target}")
    return target


def fetch(name: str, *, dest: str | os.PathLike = "data", sha256: str | None = None, timeout: float = 60.0,
          retries: int = 5, keep_archive: bool = True, progress: bool = True) -> Path:
    """Download, extract and validate one dataset (what ``make data DATASET=...`` runs).

    Steps are skipped when already done: a valid ``<dest>/<source.folder>`` is returned
    as is, a complete archive is not downloaded again, a partial one is resumed. The
    extractor is looked for *before* downloading gigabytes.

    Args:
        name: ``"ucf50"`` or ``"ucf101"``.
        dest: Folder that receives the archives and the dataset folder.
        sha256: SHA-256 of the main archive you trust (none is published).
        timeout: Socket timeout in seconds.
        retries: Resumed retries after a cut connection.
        keep_archive: Keep the archives after a successful extraction.
        progress: Show progress bars.

    Returns:
        The dataset folder, e.g. ``data/UCF50``.
    """
    src = source(name)
    info = src.info
    dest = Path(dest)
    target = dest / src.folder
    if target.exists():
        splits = src.splits_archive
        if splits is not None and not (dest / SPLITS_FOLDER).is_dir():  # videos there, split lists not yet
            path = download(splits.url, dest / splits.filename, size=splits.size, sha256=splits.sha256,
                            timeout=timeout, retries=retries, progress=progress)
            _install(_split_lists_folder(extract_archive(path, dest), path), dest / SPLITS_FOLDER)
        counts = validate_layout(target, layout=info.name)  # raises with the list of problems
        print(f"{info.name}: already in place, {sum(counts.values())} videos at {target}")
        return target
    if not find_extractors():
        raise ExtractError(f"no RAR extractor found (tried {', '.join(EXTRACTORS)}); {INSTALL_HINT}")
    archives = [src.archive] + ([src.splits_archive] if src.splits_archive else [])
    paths = []
    for item in archives:
        expected = sha256 if item is src.archive and sha256 else item.sha256
        print(f"{info.name}: {item.url} ({item.approx_size}) -> {dest / item.filename}")
        path = download(item.url, dest / item.filename, size=item.size, sha256=expected, timeout=timeout,
                        retries=retries, progress=progress)
        if expected is None:
            print(f"{item.filename}: sha256 {sha256sum(path)} (not verified: none published; pin it with --sha256)")
        paths.append(path)
    target = install_archives(info.name, archive=paths[0], splits_archive=paths[1] if len(paths) > 1 else None,
                              dest=dest)
    if not keep_archive:
        for path in paths:
            path.unlink(missing_ok=True)
    return target


# --- Command line ---


def _describe(src: Source) -> str:
    info = src.info
    lines = [f"{info.name}: {src.title}", f"  homepage:  {src.homepage}",
             f"  classes:   {info.num_classes}, groups: {info.num_groups} (clips of a group share one long video)",
             f"  archive:   {src.archive.url} ({src.archive.approx_size}; sha256 "
             f"{src.archive.sha256 or 'not published'})"]
    if src.splits_archive:
        lines.append(f"  splits:    {src.splits_archive.url} -> {SPLITS_FOLDER}/ (official splits "
                     f"{', '.join(map(str, info.splits))})")
    lines += [f"  folder:    <dest>/{src.folder}", f"  protocol:  {src.protocol}", f"  cite:      {src.citation}"]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python scripts/ucf_data.py``; returns the exit status."""
    import argparse

    parser = argparse.ArgumentParser(prog="python scripts/ucf_data.py",
                                     description="Get and check the UCF50 / UCF101 datasets.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("download", help="download, extract and validate a dataset")
    p.add_argument("dataset", choices=list(SOURCES))
    p.add_argument("--dest", default="data", help="folder for the archives and the dataset (default: data)")
    p.add_argument("--sha256", help="SHA-256 of the main archive to verify (none is published)")
    p.add_argument("--timeout", type=float, default=60.0, help="socket timeout in seconds (default: 60)")
    p.add_argument("--retries", type=int, default=5, help="resumed retries after a cut connection (default: 5)")
    p.add_argument("--remove-archive", action="store_true", help="delete the archives after extraction")
    p = sub.add_parser("extract", help="extract archives you already have, then validate")
    p.add_argument("dataset", choices=list(SOURCES))
    p.add_argument("--archive", required=True, help="UCF50.rar or UCF101.rar")
    p.add_argument("--splits-archive", help="UCF101TrainTestSplits-RecognitionTask.zip (UCF101 only)")
    p.add_argument("--dest", default="data")
    p = sub.add_parser("validate", help="check a folder against a dataset's layout")
    p.add_argument("dataset", choices=list(SOURCES))
    p.add_argument("path")
    p.add_argument("--classes", help="comma-separated subset of classes to check (e.g. the paper's four)")
    p = sub.add_parser("info", help="describe the datasets")
    p.add_argument("dataset", nargs="?", choices=list(SOURCES))
    sub.add_parser("check-extractor", help="exit 0 if a RAR extractor is installed")
    args = parser.parse_args(argv)

    try:
        if args.command == "download":
            target = fetch(args.dataset, dest=args.dest, sha256=args.sha256, timeout=args.timeout,
                           retries=args.retries, keep_archive=not args.remove_archive)
            print(f"ready: point the notebooks at it with HAR_DATASET_DIR={target}")
        elif args.command == "extract":
            target = install_archives(args.dataset, archive=args.archive, splits_archive=args.splits_archive,
                                      dest=args.dest)
            print(f"ready: point the notebooks at it with HAR_DATASET_DIR={target}")
        elif args.command == "validate":
            classes = [c.strip() for c in args.classes.split(",")] if args.classes else None
            counts = validate_layout(args.path, layout=args.dataset, class_names=classes)
            print(f"{args.path}: valid {args.dataset} layout, {sum(counts.values())} videos in {len(counts)} classes")
        elif args.command == "info":
            print("\n\n".join(_describe(SOURCES[n]) for n in ([args.dataset] if args.dataset else SOURCES)))
        elif args.command == "check-extractor":
            found = find_extractors()
            if not found:
                raise ExtractError(f"no RAR extractor found (tried {', '.join(EXTRACTORS)}); {INSTALL_HINT}")
            print(f"RAR extractor: {found[0]} ({shutil.which(found[0])})")
    except (DownloadError, ExtractError, ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
