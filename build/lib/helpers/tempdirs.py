"""Private temporary folders for atomic writers, and the clean-up of ones a killed run left.

The dataset renderer (:func:`helpers.synthetic.generate_dataset`) and the two caches
(:func:`helpers.data.create_dataset`, :func:`helpers.flow.create_flow_dataset`) build
their output in a folder beside the target and rename it into place when complete, so a
reader never sees half an entry. A run killed by a signal cannot remove its folder;
:func:`private_temp_dir` removes such leftovers the next time the same target is
written, so they never pile up. A folder is a leftover only when it was made on this
host by a process that no longer runs: a live writer's folder, or one made on another
host sharing the filesystem, is never touched. The writers also sweep such leftovers when
they finish (:func:`remove_stale_temp_dirs`), e.g. those of worker processes terminated
while they started.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

_TAG = ".tmp-"


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
    except PermissionError:  # someone else's process
        return True
    except OSError:
        return True  # cannot tell: keep the folder
    return True


def temp_name(target: str | os.PathLike) -> Path:
    """This process's temporary folder for ``target``: ``<target>.tmp-<host>-<pid>`` beside it."""
    target = Path(target)
    return target.with_name(f"{target.name}{_TAG}{_host()}-{os.getpid()}")


def stale_temp_dirs(target: str | os.PathLike, *, whole_folder: bool = False) -> list[Path]:
    """Temporary folders left by processes of this host that no longer run.

    Args:
        target: The folder being written.
        whole_folder: Look at every ``*.tmp-<host>-<pid>`` in ``target``'s parent (a cache
            folder this package owns), not only ``target``'s own.

    Also matches the older ``<name>.tmp-<pid>`` names (no host), taken as this host's.
    """
    target = Path(target)
    if not target.parent.is_dir():
        return []
    stale = []
    for path in target.parent.iterdir():
        name, tag, suffix = path.name.rpartition(_TAG)
        if not tag or not (whole_folder or name == target.name):
            continue
        host, _, pid = suffix.rpartition("-")
        if not pid.isdigit() or (host and host != _host()):
            continue
        if not _pid_alive(int(pid)):
            stale.append(path)
    return sorted(stale)


def remove_stale_temp_dirs(target: str | os.PathLike, *, whole_folder: bool = False) -> list[Path]:
    """Remove the leftovers of dead processes (:func:`stale_temp_dirs`) and return their paths."""
    stale = stale_temp_dirs(target, whole_folder=whole_folder)
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return stale


def private_temp_dir(target: str | os.PathLike, *, whole_folder: bool = False) -> Path:
    """Create (empty) this process's temporary folder for ``target`` and return it.

    Leftovers of dead processes (:func:`stale_temp_dirs`, same ``whole_folder``) are
    removed first.
    """
    remove_stale_temp_dirs(target, whole_folder=whole_folder)
    tmp = temp_name(target)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return tmp
