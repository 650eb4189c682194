"""The terminal's input: line editing and history on a terminal (readline), plain lines from a pipe.

Lines are read on a daemon thread, one per request, so the event loop keeps posting daily questions while
someone types, and Ctrl-C or SIGTERM end the session at once: the loop stops waiting, and the thread still
blocked in a read is left behind instead of being joined (which used to hang until Enter)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import signal
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO


class LineReader:
    def __init__(self, stdin: TextIO, out: TextIO, history: Path | None = None) -> None:
        self.stdin = stdin
        self.out = out
        self.history = history
        # Line editing only where input() can give it: the process's own terminal.
        self.interactive = stdin is sys.stdin and _isatty(stdin)
        self.interrupted = False  # Ctrl-C (SIGINT) ended the session
        self._fd = _fileno(stdin)
        self._pending = b""
        self._requests: queue.SimpleQueue[tuple[str, asyncio.Future[str | None]]] = queue.SimpleQueue()
        self._waiting: str | None = None  # the prompt input() is showing right now
        self._stopped = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._terminal: Any = None
        self._readline: Any = None

    def __enter__(self) -> LineReader:
        self._loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._loop.add_signal_handler(sig, self._stop, sig)
        if self.interactive:
            self._setup_terminal()
        threading.Thread(target=self._serve, name="console-input", daemon=True).start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._loop is not None
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._loop.remove_signal_handler(sig)
        if self.interactive:
            self._restore_terminal()

    def _stop(self, sig: signal.Signals) -> None:
        self.interrupted = self.interrupted or sig == signal.SIGINT
        self._stopped.set()

    async def read(self, prompt: str) -> str | None:
        """The next line, or None at the end of input or when the session is asked to stop."""
        if self._stopped.is_set():
            return None
        assert self._loop is not None
        line: asyncio.Future[str | None] = self._loop.create_future()
        self._requests.put((prompt, line))
        stopping: asyncio.Future[Any] = asyncio.ensure_future(self._stopped.wait())
        try:
            await asyncio.wait([line, stopping], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if not line.done():
            return None
        text = line.result()
        if text is None:
            self._stopped.set()
        return text

    def waiting_prompt(self) -> tuple[str, str] | None:
        """(prompt, what is typed so far) while the person is at the prompt, for redrawing it."""
        prompt = self._waiting
        if prompt is None:
            return None
        typed = self._readline.get_line_buffer() if self._readline is not None else ""
        return prompt, typed

    # -- the reading thread ------------------------------------------------------------------------

    def _serve(self) -> None:
        assert self._loop is not None
        while True:
            prompt, future = self._requests.get()
            try:
                line = self._read_one(prompt)
            except Exception:  # EOFError (Ctrl-D), a closed or broken stdin: the end of input
                line = None
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                self._loop.call_soon_threadsafe(_settle, future, line)
            if line is None:
                return

    def _read_one(self, prompt: str) -> str | None:
        if self.interactive:
            self._waiting = prompt
            try:
                return input(prompt)
            finally:
                self._waiting = None
        if self._fd is None:
            text = self.stdin.readline()
            return text or None
        return self._read_fd_line()

    def _read_fd_line(self) -> str | None:
        """One line from the file descriptor, decoded leniently: invalid UTF-8 becomes U+FFFD, not a crash."""
        assert self._fd is not None
        while b"\n" not in self._pending:
            chunk = os.read(self._fd, 65536)
            if not chunk:
                break
            self._pending += chunk
        if not self._pending:
            return None
        raw, newline, self._pending = self._pending.partition(b"\n")
        return (raw + newline).decode("utf-8", errors="replace")

    # -- the terminal ------------------------------------------------------------------------------

    def _setup_terminal(self) -> None:
        # Typed bytes that are not UTF-8 become U+FFFD instead of a UnicodeDecodeError in input().
        reconfigure = getattr(self.stdin, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
        try:
            import termios

            self._terminal = termios.tcgetattr(self._fd) if self._fd is not None else None
        except Exception:
            self._terminal = None
        try:
            import readline  # line editing and history for input(); not on every platform
        except ImportError:
            return
        self._readline = readline
        readline.set_history_length(1000)
        if self.history is not None:
            with contextlib.suppress(OSError):
                readline.read_history_file(self.history)

    def _restore_terminal(self) -> None:
        # A read left behind by Ctrl-C may hold the terminal in readline's mode (no echo): put it back.
        if self._terminal is not None and self._fd is not None:
            import termios

            with contextlib.suppress(Exception):
                termios.tcsetattr(self._fd, termios.TCSADRAIN, self._terminal)
        if self._readline is not None and self.history is not None:
            with contextlib.suppress(OSError):
                self.history.parent.mkdir(parents=True, exist_ok=True)
                self._readline.write_history_file(self.history)


def _settle(future: asyncio.Future[str | None], line: str | None) -> None:
    if not future.done():
        future.set_result(line)


def _fileno(stream: TextIO) -> int | None:
    try:
        return stream.fileno()
    except (OSError, ValueError, AttributeError):
        return None


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (OSError, ValueError, AttributeError):
        return False
