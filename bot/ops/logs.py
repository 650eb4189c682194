"""Structured logs (key=value or JSON lines) with every secret redacted from the final text.

Redaction happens on the handler, after the message is formatted and the traceback rendered, so a token
passed as a log argument, echoed in an exception by a library, or shown in a traceback's source line
never reaches the output."""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import types
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO
from urllib.parse import quote, unquote

from sqlalchemy.engine import make_url

from bot.config import Settings

MASK = "***"

# Shapes of credentials worth hiding even when nobody told us their value.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Credentials in a URL: scheme://user:password@host -> scheme://***@host. The whole userinfo, up to the
    # last `@`, since operators write passwords holding `@`, `/`, `#` or `:` unquoted.
    (re.compile(r"(?P<keep>[a-zA-Z][a-zA-Z0-9+.\-]*://)\S*@"), rf"\g<keep>{MASK}@"),
    # password=... in a DSN or query string
    (re.compile(r"(?P<keep>\bpassword\s*[=:]\s*)[^\s&;,'\"]+", re.IGNORECASE), rf"\g<keep>{MASK}"),
    # Slack tokens: bot, user, app-level, refresh, config
    (re.compile(r"\bx(?:ox[abposre]|app)-[A-Za-z0-9\-]+"), MASK),
    # Discord bot tokens: base64 user id . timestamp . HMAC
    (re.compile(r"\b[A-Za-z0-9_\-]{23,28}\.[A-Za-z0-9_\-]{6,7}\.[A-Za-z0-9_\-]{27,40}\b"), MASK),
    # Authorization headers
    (re.compile(r"(?P<keep>\b(?:Bot|Bearer)\s+)[A-Za-z0-9_\-.=]{16,}"), rf"\g<keep>{MASK}"),
)


SHORT_SECRET = 8


class Redactor:
    """Replaces known secret values and credential-shaped strings with ***."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values: set[str] = set()
        for secret in secrets:
            if secret:
                values.update({secret, quote(secret, safe=""), quote(secret)})
        # Longest first, so a secret containing another is masked whole.
        self.secrets = tuple(sorted(values, key=len, reverse=True))
        # A short value (a test's "x") would mask every word it occurs in; those are masked as whole words.
        self._short = {
            s: re.compile(rf"(?<![A-Za-z0-9]){re.escape(s)}(?![A-Za-z0-9])")
            for s in self.secrets
            if len(s) < SHORT_SECRET
        }

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                short = self._short.get(secret)
                text = short.sub(MASK, text) if short else text.replace(secret, MASK)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


# The scheme is optional: `user:password@host/db` (a URL missing its scheme) is refused with the whole
# string in the error, so its password must be known to the redactor too.
_URL = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)?(?:(?P<userinfo>.*)@)?(?P<rest>[^@]*)", re.DOTALL)
# Where a driver that misreads a raw `@`, `/`, `#`, `?` or `:` in a password may cut it.
_URL_DELIMITERS = re.compile(r"[@/#?:]")


def _userinfo(url: str) -> str:
    match = _URL.fullmatch(url.strip())
    return (match.group("userinfo") or "") if match else ""


def secrets_of(settings: Settings) -> list[str]:
    """The settings' secrets plus the database password, in every form it may be printed: whole, decoded,
    and in the pieces a parser that misreads its raw delimiters would print."""
    found = list(settings.secrets)
    userinfo = _userinfo(settings.database_url)
    password = userinfo.partition(":")[2]
    if password:
        found += [userinfo, password, unquote(password), *_URL_DELIMITERS.split(password)]
    if settings.database_url:
        try:
            parsed = make_url(settings.database_url).password
        except Exception:  # an unparsable URL fails later with its own error
            parsed = None
        if parsed:
            found.append(str(parsed))
    return found


def safe_url(url: str) -> str:
    """A database URL fit for a log line: the whole userinfo (user and password) replaced with ***."""
    match = _URL.fullmatch(url.strip())
    if match is None:
        return Redactor()(url)
    if match.group("userinfo") is None:
        return url.strip()
    return f"{match.group('scheme') or ''}{MASK}@{match.group('rest')}"


def describe_error(exc: BaseException, limit: int = 200) -> str:
    """The root cause of an error in one short line ("ConnectionRefusedError: [Errno 111] ..."), for
    log lines and health answers where a whole traceback would bury the reason."""
    root = exc
    seen = {id(root)}
    while (root.__cause__ or root.__context__) is not None:
        nxt = root.__cause__ or root.__context__
        assert nxt is not None
        if id(nxt) in seen:
            break
        seen.add(id(nxt))
        root = nxt
    text = " ".join(str(root).split())[:limit]
    return f"{type(root).__name__}: {text}" if text else type(root).__name__


def log_start_failure(log: logging.Logger, db_url: str, exc: BaseException) -> None:
    """Why a command could not start, in one line an operator can act on; the traceback only at DEBUG."""
    log.error("cannot start: database %s: %s", safe_url(db_url), describe_error(exc))
    log.debug("database error details", exc_info=exc)


# Attributes every LogRecord has; anything else came from `extra=` and is printed as key=value.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


class RedactingFilter(logging.Filter):
    """Formats the message and traceback once, redacted, and leaves the record holding only that text."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redact = redactor
        self._render = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_studybot_redacted", False):
            return True
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._render.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, self.redact(value))
        record._studybot_redacted = True
        return True


def _timestamp(record: logging.LogRecord) -> str:
    return (
        datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")}


def _kv_value(value: Any) -> str:
    text = str(value)
    if text and not any(c in text for c in ' "=\\\n\t'):
        return text
    return json.dumps(text, ensure_ascii=False)


class RedactingFormatter(logging.Formatter):
    """A formatter that masks secrets in what it writes."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redact = redactor


class KeyValueFormatter(RedactingFormatter):
    """ts=... level=INFO logger=bot.runner msg="started" component=slack, traceback on following lines."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields.update(_extras(record))
        line = " ".join(f"{k}={_kv_value(v)}" for k, v in fields.items())
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line += "\n" + record.exc_text
        if record.stack_info:
            line += "\n" + record.stack_info
        return self.redact(line)


class JsonFormatter(RedactingFormatter):
    """One JSON object a line: ts, level, logger, msg, any extra fields, and exc for a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "msg": self.redact(record.getMessage()),
        }
        for key, value in _extras(record).items():
            fields[key] = self.redact(value) if isinstance(value, str) else value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            fields["exc"] = self.redact(record.exc_text)
        if record.stack_info:
            fields["stack"] = self.redact(record.stack_info)
        # Redact again after escaping, in case a secret survives only in its JSON-escaped form.
        return self.redact(json.dumps(fields, ensure_ascii=False, default=str))


def configure_logging(
    settings: Settings,
    level: str | None = None,
    stream: TextIO | None = None,
    extra_secrets: Iterable[str] = (),
) -> Redactor:
    """Send every log record (ours, libraries', warnings, uncaught exceptions) through one redacting
    handler in the configured format. Returns the redactor so other outputs can use it too."""
    redactor = Redactor([*secrets_of(settings), *extra_secrets])
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.addFilter(RedactingFilter(redactor))
    handler.setFormatter(
        JsonFormatter(redactor) if settings.log_format == "json" else KeyValueFormatter(redactor)
    )

    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level or settings.log_level)
    # aiosqlite logs every cursor call at DEBUG, drowning the bot's own debug lines.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    logging.captureWarnings(True)

    # An exception that escapes main() would be printed by Python itself, bypassing redaction.
    crash = logging.getLogger("studybot")

    def excepthook(kind: type[BaseException], value: BaseException, tb: types.TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, value, tb)
            return
        crash.critical("uncaught exception, exiting", exc_info=(kind, value, tb))

    def thread_excepthook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        exc_info = (args.exc_type, args.exc_value, args.exc_traceback)
        name = args.thread.name if args.thread else "?"
        crash.critical("uncaught exception in thread %s", name, exc_info=exc_info)  # type: ignore[arg-type]

    sys.excepthook = excepthook
    threading.excepthook = thread_excepthook
    return redactor
