"""A whole terminal session, driven through piped stdin of a real `studybot console` process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import CONTENT, REPO


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
