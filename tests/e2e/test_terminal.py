"""A whole terminal session, driven through piped stdin of a real `studybot console` process."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import io
import os
import pty
import select
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.adapters.console import ConsoleBot
from bot.adapters.console_input import LineReader
from bot.bootstrap import build_service
from bot.core.commands import run_text_command
from bot.core.messages import Action, Message
from bot.core.service import StudyService
from tests.conftest import CONTENT, REPO, member


def run_console(tmp_path: Path, lines: list[str], user: str = "alice") -> str:
    env = {**os.environ, "STUDYBOT_DATA_DIR": str(tmp_path / "data"), "STUDYBOT_CONTENT": str(CONTENT)}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "console", "--user", user, "--db", str(tmp_path / "term.db")],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


def test_a_scripted_study_session(tmp_path: Path) -> None:
    out = run_console(
        tmp_path,
        [
            "/team join Owls",  # first: points count for the team they are earned in
            "/quiz",
            "write my answer",  # by label
            "Deep learning stacks many layers, e.g. CNNs, and learns features itself.",
            "good",  # grade by label
            "1",  # Follow-up question, by number
            "1",  # Reveal answer
            "4",  # Easy
            "/stats",
            "/leaderboard week",
            "/leaderboard decade",
            "/dance",
        ],
    )
    # The question, then the form for a typed answer.
    assert "New card · ml-interview-questions #1" in out
    assert "What Is Deep Learning, and How Does It Differ from Traditional Machine Learning?" in out
    assert "Write your answer (one line, at most 2000 characters):" in out
    # Reveal shows the typed answer, the model answer and the key terms covered and missed.
    assert "Your answer:\n    Deep learning stacks many layers, e.g. CNNs" in out
    assert "Model answer:\n    Deep learning is a subset of machine learning" in out
    assert "Covered: convolutional neural networks (CNNs)" in out
    assert "Missed: recurrent neural networks (RNNs)" in out
    # Grade buttons carry their intervals; grading confirms points and streak.
    assert "[3] Good · 2d" in out
    assert "Good — next review in 2 days" in out and "+15 points · 🔥 1-day streak" in out
    # The follow-up comes next and is graded the same way.
    assert "Follow-up · ml-interview-questions #1 (follow-up)" in out
    assert "What are the primary challenges with training deep learning models?" in out
    assert "Easy — next review" in out and "+10 points" in out
    # Stats and leaderboard reflect the session.
    assert "2 learned, 0 due now" in out
    assert "25 this week, 25 all time" in out
    assert "1. alice (you) — 25 pts · 🔥 1" in out
    assert "1. Owls — 25 pts per active member (25 pts, 1 active)" in out
    # Bad input gets a clear answer.
    assert "“decade” is not a leaderboard period." in out and "week, month, all" in out
    assert "I don't know the command “dance”." in out and "/help" in out


def test_progress_survives_a_restart_and_users_are_apart(tmp_path: Path) -> None:
    run_console(tmp_path, ["/quiz", "1", "3"])
    again = run_console(tmp_path, ["/stats"])
    assert "1 learned" in again
    bob = run_console(tmp_path, ["/stats", "/leaderboard all"], user="bob")
    assert "0 learned" in bob
    assert "1. alice — 10 pts" in bob
    assert "You have no points in this period yet" in bob


def test_an_unknown_choice_says_what_to_type(tmp_path: Path) -> None:
    out = run_console(tmp_path, ["hello"])
    assert "“hello” is not a command or one of the choices above." in out


# -- what used to crash or hang ------------------------------------------------------------------------


def run_console_bytes(tmp_path: Path, data: bytes) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "STUDYBOT_DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "console", "--user", "alice", "--db", str(tmp_path / "term.db")],
        input=data,
        capture_output=True,
        timeout=60,
        cwd=REPO,
        env=env,
    )


def test_a_unicode_digit_is_not_a_choice(tmp_path: Path) -> None:
    # `²`.isdigit() is true, but int("²") fails.
    out = run_console(tmp_path, ["/quiz", "²", "١", "1"])
    assert "“²” is not a command or one of the choices above." in out
    assert "“١” is not a command or one of the choices above." in out
    assert "Model answer:" in out  # the session went on


def test_invalid_utf8_on_stdin_is_read_not_fatal(tmp_path: Path) -> None:
    result = run_console_bytes(tmp_path, b"/quiz\n\xff\xfe caf\xe9\n/stats\n")
    assert result.returncode == 0, result.stderr
    assert b"Traceback" not in result.stderr, result.stderr
    out = result.stdout.decode()
    assert "“\ufffd\ufffd caf\ufffd” is not a command or one of the choices above." in out
    assert "0 learned" in out


def test_a_database_error_mid_session_is_reported_and_the_session_goes_on(tmp_path: Path) -> None:
    env = {**os.environ, "STUDYBOT_DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)
    db = tmp_path / "term.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "console", "--user", "alice", "--db", str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("/stats\n")
    proc.stdin.flush()
    while "learned" not in proc.stdout.readline():
        pass
    # Someone breaks the database under the running bot.
    with sqlite3.connect(db) as other:
        other.execute("ALTER TABLE asks RENAME TO asks_gone")
    out, err = proc.communicate("/quiz\n/help\n", timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "Traceback" not in out, err + out
    assert "⚠ That did not go through: OperationalError: no such table: asks" in out
    assert "/quiz" in out.split("did not go through")[1]  # /help still answered afterwards


# -- a real terminal: Ctrl-C, Ctrl-D, wrapping ------------------------------------------------------------


class Terminal:
    """`studybot console` on a pseudo-terminal, as a person at a keyboard runs it."""

    def __init__(self, tmp_path: Path, columns: int = 100) -> None:
        env = {**os.environ, "STUDYBOT_DATA_DIR": str(tmp_path / "data"), "TERM": "xterm"}
        env.pop("DATABASE_URL", None)
        env.pop("COLUMNS", None)
        argv = [sys.executable, "-m", "bot.cli", "console", "--db", str(tmp_path / "term.db")]
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the pty is its controlling terminal
            os.chdir(REPO)
            os.execve(sys.executable, argv, env)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
        self.output = b""
        self.seen = 0

    def read_until(self, marker: str, timeout: float = 30) -> str:
        """Wait for `marker` to be printed after what the previous call waited for."""
        wanted = marker.encode()
        deadline = time.monotonic() + timeout
        while wanted not in self.output[self.seen :]:
            left = deadline - time.monotonic()
            assert left > 0, f"no {marker!r} in:\n{self.text}"
            if select.select([self.fd], [], [], left)[0]:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:  # the child closed the terminal
                    chunk = b""
                if not chunk:
                    break
                self.output += chunk
        found = self.output.find(wanted, self.seen)
        assert found >= 0, f"no {marker!r} in:\n{self.text}"
        self.seen = found + len(wanted)
        return self.text

    @property
    def text(self) -> str:
        return self.output.decode(errors="replace").replace("\r\n", "\n")

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def exit_code(self, timeout: float = 30) -> int:
        """The child's exit code, reading what it still prints; fails if it does not exit (a hang)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                with contextlib.suppress(OSError):
                    while select.select([self.fd], [], [], 0.2)[0] and (chunk := os.read(self.fd, 4096)):
                        self.output += chunk
                return os.waitstatus_to_exitcode(status)
            with contextlib.suppress(OSError):
                if select.select([self.fd], [], [], 0.1)[0]:
                    self.output += os.read(self.fd, 4096)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        raise AssertionError(f"the console did not exit:\n{self.text}")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Callable[..., Terminal]]:
    opened: list[Terminal] = []

    def open_terminal(columns: int = 100) -> Terminal:
        opened.append(Terminal(tmp_path, columns))
        return opened[-1]

    yield open_terminal
    for term in opened:
        term.close()


@pytest.mark.parametrize("where", ["at the prompt", "while typing", "in a form"])
def test_ctrl_c_leaves_at_once_with_a_goodbye(terminal: Callable[..., Terminal], where: str) -> None:
    term = terminal()
    term.read_until("Ctrl-D to leave.")
    term.read_until("> ")
    if where == "while typing":
        term.type("/sta")
    elif where == "in a form":
        term.type("/quiz\r")
        term.read_until("[2] Write my answer")
        term.type("2\r")
        term.read_until("characters):")
    term.type("\x03")  # Ctrl-C: the terminal sends SIGINT
    assert term.exit_code() == 0
    assert "Bye! Your progress is saved." in term.text
    assert "Traceback" not in term.text and "KeyboardInterrupt" not in term.text


def test_ctrl_d_leaves_with_a_goodbye(terminal: Callable[..., Terminal]) -> None:
    term = terminal()
    term.read_until("> ")
    term.type("/stats\r")
    term.read_until("learned")
    term.read_until("> ")
    term.type("\x04")  # Ctrl-D on an empty line: end of input
    assert term.exit_code() == 0
    assert "Bye! Your progress is saved." in term.text
    assert "Traceback" not in term.text


def test_the_terminal_edits_lines_and_remembers_them(terminal: Callable[..., Terminal]) -> None:
    term = terminal()
    term.read_until("> ")
    term.type("/stats\r")
    term.read_until("learned")
    term.read_until("> ")
    term.type("/dexks\x1b[D\x1b[D\x7fc\r")  # a typo fixed with the arrow keys and backspace
    term.read_until("ml-interview-questions")
    term.read_until("> ")
    term.type("\x1b[A\x1b[A\r")  # up twice: /stats again
    term.read_until("learned")


def test_text_is_wrapped_at_words_to_the_terminal_width(terminal: Callable[..., Terminal]) -> None:
    term = terminal(columns=40)
    term.read_until("> ")
    term.type("/quiz\r")
    text = term.read_until("[3] Skip")
    shown = [line for line in text.split("\n") if line.strip()]
    assert all(len(line.rstrip()) <= 40 for line in shown), "\n".join(shown)
    joined = " ".join(line.strip() for line in shown)
    assert "What Is Deep Learning, and How Does It Differ from Traditional Machine Learning?" in joined


def test_the_default_member_is_the_login_name(tmp_path: Path) -> None:
    env = {**os.environ, "STUDYBOT_DATA_DIR": str(tmp_path / "data"), "LOGNAME": "carol", "USER": "carol"}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "console", "--db", str(tmp_path / "term.db")],
        input="/quiz\n1\n3\n/leaderboard\n",
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env=env,
    )
    assert "1. carol (you) — 10 pts" in result.stdout, result.stdout + result.stderr


def test_a_daily_post_redraws_the_prompt_and_what_was_typed() -> None:
    class TypingReader:
        def waiting_prompt(self) -> tuple[str, str]:
            return "> ", "/lea"

    out = io.StringIO()
    bot = ConsoleBot(cast(StudyService, None), "alice", out=out)
    bot.reader = cast(LineReader, TypingReader())
    bot.show_post("general", Message(title="Question of the day", actions=(Action("daily:1", "Reveal"),)))
    # The prompt line is cleared, the post printed, and the prompt with the half-typed command redrawn.
    assert out.getvalue() == "\r\x1b[K── #general ──\nQuestion of the day\n  [1] Reveal\n> /lea"
    assert bot.actions == (Action("daily:1", "Reveal"),)


# -- the command parser never breaks, whatever is typed ----------------------------------------------------

COMMANDS = [
    "quiz",
    "stats",
    "leaderboard",
    "team",
    "team join",
    "team leave",
    "daily",
    "daily set",
    "daily off",
    "daily now",
    "daily status",
    "decks",
    "help",
    "",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    line=st.one_of(
        st.text(),
        # A choice by number, in any script's digits (`²` passes str.isdigit(), not int()).
        st.text(st.characters(whitelist_categories=("Nd", "No")), min_size=1, max_size=3),
        st.builds(lambda c, rest: f"/{c} {rest}", st.sampled_from(COMMANDS), st.text()),
        st.builds(
            lambda rest: f"/daily set {rest}",
            st.lists(
                st.sampled_from(
                    [
                        "general",
                        "#g",
                        "09:00",
                        "25:99",
                        "Europe/Berlin",
                        "Mars/Base",
                        "mon-fri",
                        "ml-interview-questions",
                        "daily",
                        "²",
                        "<#C1|x>",
                    ]
                )
            ).map(" ".join),
        ),
    )
)
def test_any_typed_line_gets_an_answer_never_an_error(
    fuzz_bot: tuple[ConsoleBot, io.StringIO, Any], line: str
) -> None:
    bot, out, loop = fuzz_bot

    async def an_answer() -> str | None:
        return "a typed answer"

    out.seek(0)
    out.truncate()
    # The parser itself, without the session's safety net: any exception fails the test.
    if line.strip():
        loop.run_until_complete(bot._handle(line.strip(), an_answer))
        assert out.getvalue().strip(), line


@pytest.fixture
def fuzz_bot(tmp_path: Path) -> Iterator[tuple[ConsoleBot, io.StringIO, Any]]:
    loop = asyncio.new_event_loop()
    service = loop.run_until_complete(build_service(f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}", [CONTENT]))
    out = io.StringIO()
    bot = ConsoleBot(service, "fuzz", out=out)
    loop.run_until_complete(bot.handle("/quiz", lambda: asyncio.sleep(0, None)))  # choices to pick from
    try:
        yield bot, out, loop
    finally:
        loop.run_until_complete(service.store.close())  # type: ignore[attr-defined]
        loop.close()


# -- the question of the day in the terminal, which has no channel of its own ------------------------------


def test_the_readmes_daily_example_works_in_the_terminal(tmp_path: Path) -> None:
    out = run_console(
        tmp_path, ["/daily set 09:00 Europe/Berlin mon-fri", "/daily now", "/daily status", "/daily off"]
    )
    assert "Daily question set for #general." in out
    assert "Mon–Fri at 09:00 Europe/Berlin" in out or "at 09:00 Europe/Berlin" in out
    assert "── #general ──\nQuestion of the day" in out
    assert "Posted today's question in #general." in out
    assert "The daily question is off in #general." in out
    assert "Name the channel" not in out and "⚠" not in out, out


def test_an_unnamed_channel_is_the_only_one_and_several_are_listed(tmp_path: Path) -> None:
    out = run_console(
        tmp_path,
        [
            "/daily now",  # none yet
            "/daily set ml 10:00 UTC",
            "/daily set 25:00 UTC",  # a time-shaped first word is a time, not a channel
            "/daily now",  # the only one: #ml
            "/daily set random 11:00 UTC",
            "/daily off",  # two: which one?
        ],
    )
    assert "⚠ There is no daily question yet." in out
    assert "⚠ “25:00” is not a 24-hour time; use HH:MM, e.g. 09:30." in out
    assert "Posted today's question in #ml." in out
    assert "⚠ Which channel? Daily questions are set in #ml, #random." in out
    assert "/daily off ml" in out


async def test_in_a_chat_the_unnamed_channel_is_still_the_current_one(service: StudyService) -> None:
    in_general = replace(member("ada", admin=True), channel_ref="C0GENERAL1")
    other = await run_text_command(service, in_general, "/daily set random 10:00 UTC")
    assert isinstance(other, Message) and other.title == "Daily question set for #random."
    here = await run_text_command(service, in_general, "/daily set 09:00 Europe/Berlin mon-fri")
    assert isinstance(here, Message) and here.title == "Daily question set for <#C0GENERAL1>."
    off = await run_text_command(service, in_general, "/daily off")
    assert isinstance(off, Message) and off.title == "The daily question is off in <#C0GENERAL1>."


def start_console(tmp_path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "STUDYBOT_DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "console", "--user", "alice", "--db", str(tmp_path / "term.db")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=env,
    )


def test_output_closed_by_its_reader_ends_the_session_quietly(tmp_path: Path) -> None:
    # `studybot console | head -1`
    proc = start_console(tmp_path)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    assert "studybot in your terminal" in proc.stdout.readline()
    proc.stdout.close()
    with contextlib.suppress(BrokenPipeError):
        proc.stdin.write("/help\n" * 50 + "/decks\n")
        proc.stdin.close()
    assert proc.wait(timeout=60) == 0
    err = proc.stderr.read()
    assert "Traceback" not in err and "cannot start" not in err, err


def test_sigterm_ends_a_piped_session_with_a_goodbye(tmp_path: Path) -> None:
    proc = start_console(tmp_path)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("/stats\n")
    proc.stdin.flush()
    while "learned" not in proc.stdout.readline():
        pass
    proc.send_signal(signal.SIGTERM)  # stdin stays open: the session must not wait for it
    assert proc.wait(timeout=30) == 0
    assert proc.stdout is not None and proc.stderr is not None
    out, err = proc.stdout.read(), proc.stderr.read()
    assert "Bye! Your progress is saved." in out and "Traceback" not in err


def test_a_deck_file_is_imported_by_path_studied_and_exported(tmp_path: Path) -> None:
    deck = tmp_path / "Team Notes.csv"
    row = b'"What runs our deploys, and where?","The **CI** runner, in CI"\n'
    deck.write_bytes(b"\xef\xbb\xbfquestion,answer\n" + row)
    out = run_console(
        tmp_path,
        [
            f"/deck import {deck}",
            "/quiz team-notes",
            "/deck export team-notes",
            f"/deck import {tmp_path / 'missing.csv'}",
        ],
    )
    assert "Deck “team-notes” imported" in out and "Imported Team Notes: 1 card, 0 follow-ups." in out
    assert "New card · team-notes #1" in out and "What runs our deploys, and where?" in out
    saved = tmp_path / "data" / "files" / "team-notes.md"
    assert f"Saved {saved}" in out
    assert "What runs our deploys, and where?" in saved.read_text(encoding="utf-8")
    assert f"There is no file at “{tmp_path / 'missing.csv'}”." in out
