"""The SQLite lock wait comes from the URL's `timeout` (SQLAlchemy's own option), 30 s when it has none."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import ConfigError
from bot.store.engine import busy_timeout


def test_no_timeout_waits_30_seconds_and_one_given_is_used() -> None:
    assert busy_timeout("sqlite+aiosqlite:///data/studybot.db") == 30
    assert busy_timeout("sqlite+aiosqlite:///data/studybot.db?timeout=2.5") == 2.5


@pytest.mark.parametrize("bad", ["0", "-1", "soon", "1e9", "nan"])
def test_a_timeout_that_is_not_a_sensible_number_of_seconds_is_named(bad: str) -> None:
    with pytest.raises(ConfigError, match="timeout must be a number of seconds"):
        busy_timeout(f"sqlite+aiosqlite:///x.db?timeout={bad}")


@given(st.text(max_size=20))
def test_any_timeout_text_gives_seconds_or_a_config_error(text: str) -> None:
    try:
        seconds = busy_timeout(f"sqlite+aiosqlite:///x.db?timeout={quote(text)}")
    except ConfigError:
        return
    assert 0 < seconds <= 3600
