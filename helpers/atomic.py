"""Atomic writes: a reader sees the whole file or folder, or none of it.

:func:`atomic_write` is the one "write then rename" of the package: the results tables
(:mod:`helpers.results`), the embedded dataset (:func:`helpers.synthetic.generate_dataset`),
the array caches (:mod:`helpers.cache`: clips and optical flow), saved models, and the
UCF downloader script. The output is built in a fresh temporary file or folder made by
:mod:`tempfile` beside the target (same file system, so :func:`os.replace` is one
rename), moved onto the target when the block ends normally, and removed when it raises.

Why the temporary names carry the host and process id (``<target>.tmp-<host>-<pid>-<random>``)
and why there is a clean-up: a process killed by a signal (a killed kernel, the
out-of-memory killer, a worker terminated while it re-ran an unguarded script, see
:mod:`helpers.parallel`) runs no ``finally`` and leaves its temporary output behind,
and for a cache that is gigabytes. :func:`remove_stale` deletes such leftovers when the
same target is written again and when the writer finishes, so they never pile up. A
leftover is stale only when it was made on this host by a process that no longer runs: a
live writer's output, or one made on another host sharing the file system, is never
touched. The older names ``<target>.tmp-<host>-<pid>`` and ``<target>.tmp-<pid>`` are
recognised too.

Nothing is destroyed that the caller was not asked to replace (:func:`check_target`, run before
the block writes anything and again at the rename): a file never replaces a folder, a folder
replaces only an empty folder or one written here (it holds :data:`OWNED_MARKER`), and an output
that is one of its inputs (same file through links or hard links, or a folder holding one) is
refused. Each refusal is a :class:`RefusedTarget` naming the path.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

_TAG = ".tmp-"
#: Empty file inside every folder :func:`replace` moves into place: a later write may replace that
#: folder; a non-empty folder without it is someone else's and is never replaced.
OWNED_MARKER = ".written-by-helpers"
_UMASK = os.umask(0o22)
os.umask(_UMASK)  # read once: tempfile makes private (0600/0700) paths; outputs get the usual modes


def _host() -> str:
    return socket.gethostname().replace(os.sep, "_") or "localhost"


def _pid_alive(pid: int) -> bool:
    """True if a process with this id runs on this host (or may run: no permission to ask)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: someone else's process; anything else: cannot tell, keep it
        return True
    return True


def _owner_pid(owner: str) -> int | None:
    """The process id in the tail of a temporary name made on this host, else None.

    Tails: ``<host>-<pid>-<random><suffix>`` (tempfile's random part has no ``-``), or the older
    ``<host>-<pid>`` and ``<pid>``.
    """
    host = f"{_host()}-"
    tail = owner[len(host):] if owner.startswith(host) else owner
    pid, _, random = tail.partition("-")
    return int(pid) if pid.isdigit() and "-" not in random else None


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def stale_temp_paths(target: str | os.PathLike, *, whole_folder: bool = False) -> list[Path]:
    """Temporary outputs for ``target`` left by processes of this host that no longer run.

    Args:
        target: The file or folder being written.
        whole_folder: Look at every temporary output in ``target``'s folder (a cache folder
            this package owns), not only ``target``'s own.

    Returns:
        Their paths, sorted.
    """
    target = Path(target)
    if not target.parent.is_dir():
        return []
    stale = []
    for path in target.parent.iterdir():
        name, tag, owner = path.name.rpartition(_TAG)
        pid = _owner_pid(owner) if tag else None
        if pid is not None and (whole_folder or name == target.name) and not _pid_alive(pid):
            stale.append(path)
    return sorted(stale)


def remove_stale(target: str | os.PathLike, *, whole_folder: bool = False) -> list[Path]:
    """Remove the leftovers of dead processes (:func:`stale_temp_paths`) and return their paths."""
    stale = stale_temp_paths(target, whole_folder=whole_folder)
    for path in stale:
        _remove(path)
    return stale


def temp_path(target: str | os.PathLike, *, directory: bool = False, whole_folder: bool = False,
              suffix: str = "") -> Path:
    """Create an empty temporary file (or folder) beside ``target`` for this process, and return it.

    Leftovers of dead processes (:func:`remove_stale`, same ``whole_folder``) are removed first.
    The caller removes it (or renames it into place). ``suffix`` ends the name (e.g. ``".keras"``,
    which ``keras.Model.save`` requires).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(target, whole_folder=whole_folder)
    prefix = f"{target.name}{_TAG}{_host()}-{os.getpid()}-"
    if directory:
        path = Path(tempfile.mkdtemp(suffix=suffix, prefix=prefix, dir=target.parent))
    else:
        handle, name = tempfile.mkstemp(suffix=suffix, prefix=prefix, dir=target.parent)
        os.close(handle)
        path = Path(name)
    path.chmod((0o777 if directory else 0o666) & ~_UMASK)
    return path


class RefusedTarget(ValueError):
    """An output that would destroy what it was not asked to replace; the message is ``<path>: <reason>``."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path, self.reason = str(path), reason
        super().__init__(f"{path}: {reason}")


def _is_folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()  # a link is replaced itself, never what it points to


def check_target(target: str | os.PathLike, *, directory: bool = False,
                 inputs: Iterable[str | os.PathLike | None] = (), owned: bool = False) -> Path:
    """``target`` as a Path if writing it destroys nothing it was not asked to replace, else :class:`RefusedTarget`.

    Args:
        target: The file or folder about to be written.
        directory: The new output is a folder (else a file).
        inputs: Paths the writer reads (None entries are skipped): the target may be none of them
            (same file, also through symbolic or hard links) and, as a folder, may hold none of them.
        owned: ``target``'s folder is this package's (a cache folder): a folder there may be replaced
            without :data:`OWNED_MARKER` (e.g. a cache entry left half-written by hand or an older version).

    Returns:
        ``target`` as a Path.
    """
    target = Path(target)
    for source in inputs:
        source = Path(source) if source is not None else None
        if source is None or not source.exists():
            continue
        if target.exists() and os.path.samefile(source, target):
            raise RefusedTarget(target, f"is the input {source}; write the output to another path")
        if _is_folder(target) and source.resolve().is_relative_to(target.resolve()):
            raise RefusedTarget(target, f"is a folder holding the input {source}; write the output to another path")
    if not directory and _is_folder(target):
        raise RefusedTarget(target, "is a folder; a file would replace it (remove it or choose another path)")
    if directory and target.exists() and not _is_folder(target):
        raise RefusedTarget(target, "is a file, not a folder (remove it or choose another path)")
    foreign = not owned and not (target / OWNED_MARKER).exists()
    if directory and foreign and _is_folder(target) and any(target.iterdir()):
        raise RefusedTarget(target, "is a folder that was not written here and is not empty; it is never replaced "
                                    "(remove it or choose another path)")
    return target


def replace(source: str | os.PathLike, target: str | os.PathLike, *, owned: bool = False) -> None:
    """Move ``source`` onto ``target`` in one rename, after :func:`check_target`; an existing target folder
    (empty, or one written here) is moved aside first.

    :func:`os.replace` cannot replace a folder that is not empty, so an old target folder
    is renamed to a temporary name, the new one renamed into place, then the old one
    deleted: readers see the old folder or the new one, never a mix. A folder moved into
    place gets :data:`OWNED_MARKER`. ``owned``: as in :func:`check_target`.
    """
    source, target = Path(source), Path(target)
    check_target(target, directory=_is_folder(source), owned=owned)
    if _is_folder(source):
        (source / OWNED_MARKER).touch()
    if _is_folder(target):
        old = temp_path(target, directory=True)
        os.replace(target, old)
        os.replace(source, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(source, target)


@contextlib.contextmanager
def atomic_write(target: str | os.PathLike, *, directory: bool = False, whole_folder: bool = False,
                 suffix: str = "") -> Iterator[Path]:
    """Write ``target`` atomically: the block writes the yielded temporary path, which then replaces ``target``.

    Use it as ``with atomic_write(path) as tmp: tmp.write_text(...)``. When the block
    raises (or is interrupted), the temporary output is removed and ``target`` is left as
    it was. Leftovers of killed runs are removed before and after (:func:`remove_stale`).

    Args:
        target: The file or folder to write (its parent folder is created).
        directory: Yield an empty temporary folder instead of an empty file.
        whole_folder: ``target``'s folder is one this package owns (a cache folder): also clean
            up other targets' leftovers there, and replace a folder there even without
            :data:`OWNED_MARKER` (:func:`check_target`'s ``owned``).
        suffix: End of the temporary name, for writers that check it (``".keras"``).

    Yields:
        The temporary file or folder, beside ``target``.
    """
    target = check_target(target, directory=directory, owned=whole_folder)  # before any work
    tmp = temp_path(target, directory=directory, whole_folder=whole_folder, suffix=suffix)
    try:
        yield tmp
        replace(tmp, target, owned=whole_folder)
    finally:
        if tmp.exists():
            _remove(tmp)
        remove_stale(target, whole_folder=whole_folder)  # e.g. of workers terminated while they started


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (:func:`atomic_write`); returns ``path``."""
    with atomic_write(path) as tmp:
        tmp.write_text(text)
    return Path(path)


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike, *, waiting: str) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` itself (:func:`fcntl.flock`; released when the process dies, so a
    killed holder blocks no one), printing ``waiting`` (a note) when another process holds it first.

    One lock a folder and no lock file to leave behind. It serialises read-modify-write (the results tables
    several notebooks fill, :func:`helpers.results.update_table`) and builds of the same cache entry
    (:func:`helpers.cache.cache_lock`). POSIX only: elsewhere it does not serialise (and the package still imports).
    """
    try:
        import fcntl
    except ImportError:
        yield
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    handle = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(waiting, file=sys.stderr, flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)
