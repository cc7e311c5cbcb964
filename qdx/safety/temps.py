"""Temporary outputs: their names, their removal when SIGTERM or SIGHUP ends a write, the
removal of those a killed writer left behind, and the file mode a finished output gets.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# Temporary files are named ``.<target name>.qdx-<pid>-<random>.tmp`` so a later write of the
# same target can recognise the ones a killed process (SIGKILL, power loss) left behind. A long
# target name is replaced by a hash of it (see _temp_stem), so the temporary name always fits
# the file system's NAME_MAX (255 bytes) when the target's name does.
TMP_PREFIX = ".{name}.qdx-"
TMP_SUFFIX = ".tmp"
_TMP_NAME_BYTES = 100


def _temp_stem(name: str) -> str:
    if len(os.fsencode(name)) <= _TMP_NAME_BYTES:
        return name
    return "~" + hashlib.sha256(os.fsencode(name)).hexdigest()[:24]


class _Terminated(BaseException):
    """SIGTERM or SIGHUP arrived while a temporary output existed."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


_CLEANUP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n))


@contextmanager
def cleanup_on_signals() -> Iterator[None]:
    """Let SIGTERM and SIGHUP unwind the block (so ``except``/``finally`` remove temporary
    files), then end the process by the same signal, as the default action would have.

    Python turns only SIGINT into an exception; by default SIGTERM (``kill``, a closing
    session manager) and SIGHUP (a closed terminal) end the process at once and leave the
    temporary file behind. Handlers a program installed itself are left alone, and nothing
    changes outside the main thread (where Python cannot set handlers).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {}

    def unwind(signum: int, frame: object) -> None:
        raise _Terminated(signum)

    for sig in _CLEANUP_SIGNALS:
        if signal.getsignal(sig) is signal.SIG_DFL:
            previous[sig] = signal.signal(sig, unwind)
    try:
        yield
    except _Terminated as exc:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        previous.clear()
        signal.raise_signal(exc.signum)  # default action: the process ends here
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def remove_stale_temps(target: Path) -> list[Path]:
    """Delete temporary files of ``target`` left by writers that no longer run.

    Only files matching ``.<name>.qdx-<pid>-*.tmp`` whose ``pid`` is not a live process are
    removed, so a concurrent write of the same target (same machine) is left alone. Where
    processes cannot be probed safely (Windows: ``os.kill`` would terminate them), a temporary
    file counts as stale only after a day untouched. A writer on another machine sharing the
    folder is not seen (its pid is probed locally); two machines writing one file at the same
    time is unsafe anyway.

    Returns:
        The files removed.
    """
    folder = target.parent if str(target.parent) else Path(".")
    prefix = TMP_PREFIX.format(name=_temp_stem(target.name))
    removed: list[Path] = []
    with _quiet():
        for entry in os.scandir(folder):
            if not (entry.name.startswith(prefix) and entry.name.endswith(TMP_SUFFIX)):
                continue
            pid = entry.name[len(prefix) :].partition("-")[0]
            if pid.isdigit() and _stale(int(pid), entry.stat(follow_symlinks=False).st_mtime):
                with _quiet():
                    if entry.is_dir(follow_symlinks=False):  # a folder of atomic_folder
                        shutil.rmtree(entry.path)
                    else:
                        os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


STALE_AFTER = 24 * 3600.0


def _stale(pid: int, mtime: float) -> bool:
    if pid == os.getpid():
        return False
    if os.name != "posix":
        return time.time() - mtime > STALE_AFTER
    return not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # exists but is someone else's, or not a pid we can ask about: keep it
    return True


def _final_mode(target: Path) -> int:
    """What ``open(target, "w")`` would leave: the old file's mode, else 0666 minus umask."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    # Linux shows the umask without changing it; elsewhere it can only be read by setting it.
    with _quiet(), open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def _quiet() -> Iterator[None]:
    try:
        yield
    except OSError:
        pass
