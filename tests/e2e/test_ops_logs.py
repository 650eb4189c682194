"""Structured logs, and no secret in them: unit checks of the formatter, then real `studybot` runs."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from bot.config import Settings
from bot.ops.logs import Redactor, configure_logging, safe_url, secrets_of

REPO = Path(__file__).resolve().parents[2]
# The installed `studybot` command when there is one, else the same entry point through the module.
_SCRIPT = Path(sys.executable).with_name("studybot")
STUDYBOT = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "bot.cli"]

DISCORD_TOKEN = "fake-discord-token-123.abc.def"
SLACK_BOT_TOKEN = "xoxb-0000-fake-bot-token-7q"
SLACK_APP_TOKEN = "xapp-1-fake-app-token-9z"
SIGNING_SECRET = "fake-signing-secret-5e1b"
CLIENT_SECRET = "fake-client-secret-c4f2"
DB_PASSWORD = "hunter2-db-Pa55word"
SECRETS = (DISCORD_TOKEN, SLACK_BOT_TOKEN, SLACK_APP_TOKEN, SIGNING_SECRET, CLIENT_SECRET, DB_PASSWORD)


def secret_settings(log_format: str = "keyvalue") -> Settings:
    return Settings.from_env(
        {
            "DISCORD_TOKEN": DISCORD_TOKEN,
            "SLACK_BOT_TOKEN": SLACK_BOT_TOKEN,
            "SLACK_APP_TOKEN": SLACK_APP_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_CLIENT_SECRET": CLIENT_SECRET,
            "DATABASE_URL": f"postgres://studybot:{DB_PASSWORD}@db.example:5432/studybot",
            "STUDYBOT_LOG_FORMAT": log_format,
        }
    )


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    hooks = sys.excepthook
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    sys.excepthook = hooks
    logging.captureWarnings(False)


def log_everything_secret(settings: Settings) -> None:
    log = logging.getLogger("bot.test")
    log.info("connecting with token %s", settings.discord_token, extra={"component": "discord"})
    log.warning("slack said: invalid_auth for %s / %s", settings.slack_bot_token, settings.slack_app_token)
    log.info("url is %s", settings.database_url)
    try:
        raise RuntimeError(
            f"refused: signing secret {settings.slack_signing_secret}, {settings.slack_client_secret}"
        )
    except RuntimeError:
        log.exception("request failed")


def assert_clean(output: str) -> None:
    leaked = [s for s in SECRETS if s in output]
    assert not leaked, f"secrets in the logs: {leaked}\n{output}"


@pytest.mark.usefixtures("restore_logging")
def test_key_value_lines_have_fields_and_no_secrets() -> None:
    out = io.StringIO()
    settings = secret_settings("keyvalue")
    configure_logging(settings, stream=out)
    log_everything_secret(settings)
    text = out.getvalue()
    assert_clean(text)
    first = text.splitlines()[0]
    assert first.startswith("ts=")
    assert " level=INFO logger=bot.test " in first
    assert 'msg="connecting with token ***"' in first
    assert first.endswith("component=discord")
    assert "postgresql+asyncpg://***@db.example:5432/studybot" in text
    assert "Traceback (most recent call last)" in text and "RuntimeError: refused: signing secret ***" in text


@pytest.mark.usefixtures("restore_logging")
def test_json_lines_parse_and_have_no_secrets() -> None:
    out = io.StringIO()
    settings = secret_settings("json")
    configure_logging(settings, stream=out)
    log_everything_secret(settings)
    assert_clean(out.getvalue())
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["level"] for r in records] == ["INFO", "WARNING", "INFO", "ERROR"]
    assert records[0]["component"] == "discord"
    assert records[0]["msg"] == "connecting with token ***"
    assert "RuntimeError" in records[3]["exc"]


def test_credential_shapes_are_redacted_without_being_configured() -> None:
    redact = Redactor()
    text = redact(
        "a xoxb-1234-5678-abcdef b xoxp-1-2-3 c xapp-1-A0-123-abc "
        "d MTA1MjM0NTY3ODkwMTIzNDU2Nzg5.GaBcDe.abcdefghijklmnopqrstuvwxyz012345 "
        "e postgresql://bot:s3cret@pg:5432/db f host=pg password=s3cret dbname=x "
        "g Authorization: Bot abcdefghijklmnopqrstuvwxyz"
    )
    for secret in ("xoxb-1234", "xoxp-1", "xapp-1", "MTA1MjM0", "s3cret", "abcdefghijklmnopqrstuvwxyz"):
        assert secret not in text, text
    assert "postgresql://***@pg:5432/db" in text
    # Ordinary text stays readable.
    assert redact("started slack on http://127.0.0.1:3000/slack/events") == (
        "started slack on http://127.0.0.1:3000/slack/events"
    )
    assert safe_url("postgresql+asyncpg://bot:s3cret@pg/db") == "postgresql+asyncpg://***@pg/db"


def test_a_short_secret_is_masked_as_a_word_not_inside_other_words() -> None:
    redact = Redactor(["x", "long-secret-value"])
    assert redact("Content-Type x; secret=x; long-secret-value!") == "Content-Type ***; secret=***; ***!"


def run_studybot(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 20) -> tuple[int, str]:
    """Run `studybot ARGS`; a run still going after `timeout` gets SIGTERM. Returns (code, stdout+stderr)."""
    proc = subprocess.Popen(
        [*STUDYBOT, *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.terminate()
        out, _ = proc.communicate(timeout=15)
    return proc.returncode, out


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DISCORD_", "STUDYBOT_", "DATABASE"))
    }
    env.update(
        PYTHONPATH=str(REPO),
        STUDYBOT_DATA_DIR=str(tmp_path / "data"),
        STUDYBOT_CONTENT=str(REPO / "tests" / "fixtures" / "decks"),
        STUDYBOT_LOG_LEVEL="DEBUG",
    )
    env.update(extra)
    return env


@pytest.mark.parametrize("log_format", ["keyvalue", "json"])
def test_a_run_that_fails_on_every_secret_logs_none_of_them(tmp_path: Path, log_format: str) -> None:
    """Platforms and database all refuse the fake credentials; the error logs and tracebacks that follow
    must not carry any of them."""
    secrets_env = {
        "DISCORD_TOKEN": DISCORD_TOKEN,
        # Nothing listens on port 9: every platform call fails, and the errors are logged.
        "DISCORD_API_BASE": "http://127.0.0.1:9/api/v10",
        "SLACK_BOT_TOKEN": SLACK_BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_CLIENT_SECRET": CLIENT_SECRET,
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "SLACK_PORT": "0",
        "STUDYBOT_LOG_FORMAT": log_format,
    }
    # 1. The database: a role that does not exist, on a server that may not either.
    bad_db = f"postgresql://nobody:{DB_PASSWORD}@127.0.0.1:5432/studybot_nowhere"
    code, db_out = run_studybot(["run"], base_env(tmp_path, DATABASE_URL=bad_db, **secrets_env), tmp_path)
    assert code == 1, db_out
    assert "cannot start: database" in db_out and "Traceback" in db_out
    assert "postgresql+asyncpg://***@127.0.0.1:5432/studybot_nowhere" in db_out
    # 2. `db upgrade` crashing on the same URL goes through the same redaction.
    code, upgrade_out = run_studybot(["db", "upgrade"], base_env(tmp_path, DATABASE_URL=bad_db), tmp_path)
    assert code != 0 and "Traceback" in upgrade_out, upgrade_out
    # 3. The platforms: SQLite works, the adapters try their tokens against nothing.
    code, chat_out = run_studybot(["run"], base_env(tmp_path, **secrets_env), tmp_path, timeout=8)
    assert "starting: database sqlite+aiosqlite:///" in chat_out
    for output in (db_out, upgrade_out, chat_out):
        assert_clean(output)


# -- a database password with URL delimiters in it (`@`, `/`, `#`, `:`, `?`) -------------------------

_PASSWORD = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=8, max_size=24
).filter(lambda p: p.strip() == p and len(set(p)) > 3)


@pytest.mark.usefixtures("restore_logging")
def test_a_password_with_raw_url_delimiters_is_masked_whole() -> None:
    password = "p@ss/w#rd:x?y@zz"  # written into the URL unquoted, as operators do
    url = f"postgresql://studybot:{password}@db.example:5432/studybot"
    out = io.StringIO()
    settings = Settings.from_env({"DATABASE_URL": url})
    configure_logging(settings, stream=out)
    log = logging.getLogger("bot.test")
    log.info("starting: database %s", safe_url(settings.db_url))
    log.info("raw %s", settings.database_url)
    log.error("driver said: could not connect to host %s", url.split("@", 1)[1])
    text = out.getvalue()
    for fragment in ("ss/w", "w#rd", "rd:x", "x?y", "@zz", "zz@"):
        assert fragment not in text, text
    assert "postgresql+asyncpg://***@db.example:5432/studybot" in text


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    password=_PASSWORD,
    user=st.sampled_from(["studybot", "u", "a.b-c"]),
    scheme=st.sampled_from(["postgresql://", "postgres://", ""]),  # "": the scheme forgotten
)
@example(password="tgresql:", user="studybot", scheme="postgresql://")
@example(password="0000sql:", user="studybot", scheme="postgresql://")
def test_no_database_password_is_ever_visible_in_the_logs(password: str, user: str, scheme: str) -> None:
    # A password that is also part of the host, database name or scheme cannot be hidden without hiding
    # those ("tgresql:" is in "postgresql://", which the masked URL keeps).
    template = "postgresql+asyncpg://***@db.example:5432/studybot start now postgresql://***@ postgres://"
    assume(password not in template)
    url = f"{scheme}{user}:{password}@db.example:5432/studybot"
    redact = Redactor(secrets_of(Settings.from_env({"DATABASE_URL": url})))
    for line in (safe_url(url), redact(url), redact(f"start {url} now"), redact(safe_url(url))):
        assert password not in line, line
        # No run of 4 of the password's characters survives (14 of 16 used to), unless the URL has it anyway.
        visible = {password[i : i + 4] for i in range(len(password) - 3)}
        assert not [v for v in visible if v in line and v not in template], line
