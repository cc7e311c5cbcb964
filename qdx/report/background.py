"""Work a report needs later, done in a second process while its sheets are written.

A report's count sheets (Matrix to Memos) need none of the analyses behind its last sheets and
its Overview: the codebook audit, saturation, agreement, the validation count and the two
figures (about 2.5 CPU seconds on a 100,000-selection project, a third of a second of it
importing matplotlib). Where the operating system can fork and the process may use a second
core, that work runs in a forked child meanwhile and its small result comes back pickled
through a pipe; the CPU time is the same, the wait shorter.

The same work runs in this process instead (the same functions, so the same workbook)
whenever a child cannot help: no ``os.fork`` (Windows), one core, other Python threads
running (a fork copies only the calling thread, so a lock another thread held would never be
released in the child), a failed fork, or a child that fails, ends without its result or
stops answering.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import select
import signal
import threading
import time
from collections.abc import Callable
from typing import Generic, NoReturn, TypeVar

T = TypeVar("T")


def can_fork() -> bool:
    """Whether a forked child could do work beside this process (see the module docstring)."""
    return hasattr(os, "fork") and _cores() > 1 and threading.active_count() == 1


def _cores() -> int:
    """The cores this process may run on (its affinity, where the system says; else all)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


class Background(Generic[T]):
    """``work()`` started now, in a forked child when :func:`can_fork`; :meth:`result` gives its value.

    The value travels back pickled; only this process's own child ever writes that pipe.
    Use as a context manager (or call :meth:`close`) so a child whose result is never asked
    for is stopped and reaped.
    """

    def __init__(self, work: Callable[[], T], *, fork: bool | None = None) -> None:
        self._work = work
        self._started = time.monotonic()
        self._pid: int | None = None
        self._pipe: int | None = None
        if can_fork() if fork is None else fork:
            self._start()

    def _start(self) -> None:
        read_end, write_end = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            return
        if pid == 0:
            os.close(read_end)
            _child(self._work, write_end)
        os.close(write_end)
        self._pid, self._pipe = pid, read_end

    def result(self, *, patience: float = 10.0, least: float = 60.0) -> T:
        """The value of ``work()``: the child's, else computed here (the child failed, none ran,
        or it stopped answering).

        A child normally finishes well before its result is asked for. One still silent after
        ``patience`` times as long as it has run so far (at least ``least`` seconds) is taken to be
        stuck, stopped, and its work done here: a fork copies no other thread, so a lock that
        a library's own native thread held at the fork would never be released in the child.
        """
        if self._pipe is None:
            return self._work()
        deadline = time.monotonic() + max(least, patience * (time.monotonic() - self._started))
        chunks: list[bytes] = []
        while True:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._pipe], [], [], max(left, 0.0))
            if not ready:  # stuck: the work is done here instead
                self.close()
                return self._work()
            chunk = os.read(self._pipe, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        os.close(self._pipe)
        self._pipe = None
        if self._reap() != 0 or not chunks:
            return self._work()
        value: T = pickle.loads(b"".join(chunks))
        return value

    def close(self) -> None:
        """Stop a child whose result is not wanted (the report failed before it was needed)."""
        if self._pipe is not None:
            os.close(self._pipe)  # a child still writing gets a broken pipe and ends
            self._pipe = None
        if self._pid is not None:
            with contextlib.suppress(OSError):
                # SIGKILL: a stuck child runs no Python signal handler, and it has nothing to clean up
                os.kill(self._pid, signal.SIGKILL)
            self._reap()

    def _reap(self) -> int:
        pid, self._pid = self._pid, None
        if pid is None:
            return 1
        _, status = os.waitpid(pid, 0)
        return status

    def __enter__(self) -> Background[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _child(work: Callable[[], object], write_end: int) -> NoReturn:
    """Run ``work`` and send its pickled value; never returns (``os._exit``: no flush of the
    parent's half-written files, no exit handlers of the parent)."""
    status = 1
    try:
        # The parent's objects stay untouched, so their memory stays shared with the parent:
        # the collector would otherwise walk (and so copy) every page of them.
        gc.freeze()
        data = pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(data)
        status = 0
    except BaseException:  # the parent does the work itself; the child only exits
        status = 1
    finally:
        os._exit(status)
