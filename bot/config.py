"""Settings from the environment (and a .env file), validated once at start. Every setting lives here."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import load_dotenv


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def normalise_url(url: str) -> str:
    """Accept the URLs operators write (postgres://, postgresql://) and pick the async drivers."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url[len("postgresql://") :]
    if url.startswith("sqlite:///"):
        url = "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names it."""


def _int(env: dict[str, str], name: str, default: int | None) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None


def _req_int(env: dict[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    assert value is not None
    return value


def _websocket_url(env: dict[str, str], name: str) -> str:
    raw = env.get(name, "").strip()
    parts = urlsplit(raw)
    if raw and (parts.scheme not in {"ws", "wss"} or not parts.netloc):
        raise ConfigError(f"{name} must be a ws:// or wss:// URL, not {raw!r}")
    return raw


def _http_urls(env: dict[str, str], name: str) -> str:
    """One or more http(s) base URLs, separated by commas."""
    raw = env.get(name, "").strip()
    for url in raw.replace(",", " ").split():
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ConfigError(f"{name} must be http:// or https:// URLs separated by commas, not {url!r}")
    return raw


MAX_SHARDS = 100_000  # far beyond any bot (Discord puts up to 2,500 servers on a shard); bounds the id list
_SHARD_ITEM = re.compile(r"(\d+)(?:\s*-\s*(\d+))?", re.ASCII)


def _shard_count(env: dict[str, str]) -> tuple[int | None, bool]:
    """DISCORD_SHARD_COUNT: (a fixed count or None, whether the count comes from Discord at start)."""
    raw = env.get("DISCORD_SHARD_COUNT", "").strip()
    if not raw:
        return None, False
    if raw.lower() == "auto":
        return None, True
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6 and 1 <= int(raw) <= MAX_SHARDS):
        raise ConfigError(
            f"DISCORD_SHARD_COUNT must be a whole number from 1 to {MAX_SHARDS}, or auto, not {raw!r}"
        )
    return int(raw), False


def parse_shard_ids(raw: str, count: int | None = None) -> tuple[int, ...] | None:
    """DISCORD_SHARD_IDS, e.g. `0-3`, `0,2` or `0-3,8`: the shards this instance runs, sorted.
    Blank means not set (every shard). Checked against `count` when it is known here."""
    if not raw.strip():
        return None
    ids: set[int] = set()
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            raise ConfigError(f"DISCORD_SHARD_IDS has an empty entry (a stray comma) in {raw!r}")
        match = _SHARD_ITEM.fullmatch(item)
        if match is None:
            raise ConfigError(
                f"DISCORD_SHARD_IDS: {item!r} is not a shard id or a range; write e.g. 0-3 or 0,2"
            )
        for number in filter(None, match.groups()):
            if len(number.lstrip("0")) > len(str(MAX_SHARDS)) or int(number) >= MAX_SHARDS:
                shown = number if len(number) <= 12 else number[:12] + "…"
                raise ConfigError(f"DISCORD_SHARD_IDS: shard {shown} is beyond the limit of {MAX_SHARDS}")
        first, last = int(match[1]), int(match[2] or match[1])
        if last < first:
            raise ConfigError(f"DISCORD_SHARD_IDS: the range {item} runs backwards; write {last}-{first}")
        if count is not None:
            check_shard_ids((first, last), count, f"DISCORD_SHARD_COUNT={count}")
        for shard in range(first, last + 1):
            if shard in ids:
                raise ConfigError(f"DISCORD_SHARD_IDS lists shard {shard} twice, in {raw!r}")
            ids.add(shard)
    return tuple(sorted(ids))


def check_shard_ids(ids: Iterable[int], count: int, source: str) -> None:
    """Shard ids run from 0 to count - 1; `source` says where the count came from."""
    beyond = [shard for shard in ids if not 0 <= shard < count]
    if beyond:
        raise ConfigError(
            f"DISCORD_SHARD_IDS has shard {min(beyond)}, but with {source} the shards are "
            f"0 to {count - 1} (every instance needs the same count; the ids split 0 to count - 1)"
        )


def format_shard_ids(ids: Iterable[int]) -> str:
    """The inverse of parse_shard_ids, for logs: (0, 1, 2, 3, 8) → "0-3,8"."""
    runs: list[list[int]] = []
    for shard in sorted(ids):
        if runs and shard == runs[-1][1] + 1:
            runs[-1][1] = shard
        else:
            runs.append([shard, shard])
    return ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs)


def _choice(env: dict[str, str], name: str, default: str, choices: set[str]) -> str:
    value = env.get(name, default).strip().lower() or default
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(sorted(choices))}, not {value!r}")
    return value


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    database_url: str = ""
    content_dirs: tuple[Path, ...] = (Path("content"),)
    log_level: str = "INFO"
    log_format: str = "keyvalue"  # keyvalue | json
    answer_limit: int = 2000
    # Daily question of the day.
    daily_grace_hours: int = 6
    daily_sweep_minutes: int = 5
    daily_claim_timeout_minutes: int = 10
    # Discord.
    discord_token: str = ""
    discord_shard_count: int | None = None  # a fixed count, the same on every instance
    discord_shard_ids: tuple[int, ...] | None = None  # this instance's shards; None: all of them
    discord_auto_shards: bool = False  # the count is Discord's recommendation (GET /gateway/bot) at start
    discord_application_id: int | None = None
    discord_api_base: str = ""  # tests point discord.py at a local fake API
    discord_gateway_url: str = ""  # ... and at a local fake gateway
    # Where attachments may be downloaded from (blank: Discord's CDN); tests point it at a fake CDN.
    discord_cdn_url: str = ""
    # Slack.
    slack_bot_token: str = ""
    slack_app_token: str = ""
    slack_signing_secret: str = ""
    slack_client_id: str = ""
    slack_client_secret: str = ""
    slack_api_url: str = "https://slack.com/api/"
    slack_command: str = "/study"
    slack_admin_ids: tuple[str, ...] = ()
    slack_port: int = 3000
    slack_backlog_limit: int = 1000  # acked requests held unfinished; past it, Slack is asked to retry
    slack_inbox_lease_seconds: int = 60  # an inbox row held by an instance that died is taken over after
    slack_files_url: str = ""  # where members' files may be downloaded from (blank: files.slack.com)
    # Operations.
    health_port: int | None = None

    @property
    def discord_sharded(self) -> bool:
        """Off by default: one gateway connection, no sharding."""
        return bool(
            self.discord_shard_count or self.discord_shard_ids is not None or self.discord_auto_shards
        )

    @property
    def db_url(self) -> str:
        return self.database_url or sqlite_url(self.data_dir / "studybot.db")

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never reach a log line."""
        values = (
            self.discord_token,
            self.slack_bot_token,
            self.slack_app_token,
            self.slack_signing_secret,
            self.slack_client_secret,
        )
        return tuple(v for v in values if v)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, dotenv: bool = True) -> Settings:
        if env is None:
            if dotenv:
                load_dotenv(Path.cwd() / ".env", override=False)
            env = dict(os.environ)
        content = env.get("STUDYBOT_CONTENT", "content")
        level = env.get("STUDYBOT_LOG_LEVEL", "INFO").upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ConfigError(f"STUDYBOT_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {level!r}")
        url = env.get("DATABASE_URL", "").strip()
        shard_count, auto_shards = _shard_count(env)
        shard_ids = parse_shard_ids(env.get("DISCORD_SHARD_IDS", ""), shard_count)
        command = env.get("SLACK_COMMAND", "/study").strip() or "/study"
        if not command.startswith("/"):
            command = "/" + command
        api_url = env.get("SLACK_API_URL", "https://slack.com/api/").strip() or "https://slack.com/api/"
        if not api_url.endswith("/"):
            api_url += "/"
        return cls(
            data_dir=Path(env.get("STUDYBOT_DATA_DIR", "data")),
            database_url=normalise_url(url) if url else "",
            content_dirs=tuple(Path(p) for p in content.split(os.pathsep) if p),
            log_level=level,
            log_format=_choice(env, "STUDYBOT_LOG_FORMAT", "keyvalue", {"keyvalue", "json"}),
            answer_limit=_req_int(env, "STUDYBOT_ANSWER_LIMIT", 2000),
            daily_grace_hours=_req_int(env, "STUDYBOT_DAILY_GRACE_HOURS", 6),
            daily_sweep_minutes=_req_int(env, "STUDYBOT_DAILY_SWEEP_MINUTES", 5),
            daily_claim_timeout_minutes=_req_int(env, "STUDYBOT_DAILY_CLAIM_TIMEOUT_MINUTES", 10),
            discord_token=env.get("DISCORD_TOKEN", "").strip(),
            discord_shard_count=shard_count,
            discord_shard_ids=shard_ids,
            # Ids without a count: the count is Discord's, fetched at start (and the ids checked then).
            discord_auto_shards=auto_shards or (shard_ids is not None and shard_count is None),
            discord_application_id=_int(env, "DISCORD_APPLICATION_ID", None),
            discord_api_base=env.get("DISCORD_API_BASE", "").strip(),
            discord_gateway_url=_websocket_url(env, "DISCORD_GATEWAY_URL"),
            discord_cdn_url=_http_urls(env, "DISCORD_CDN_URL"),
            slack_bot_token=env.get("SLACK_BOT_TOKEN", "").strip(),
            slack_app_token=env.get("SLACK_APP_TOKEN", "").strip(),
            slack_signing_secret=env.get("SLACK_SIGNING_SECRET", "").strip(),
            slack_client_id=env.get("SLACK_CLIENT_ID", "").strip(),
            slack_client_secret=env.get("SLACK_CLIENT_SECRET", "").strip(),
            slack_api_url=api_url,
            slack_command=command,
            slack_admin_ids=tuple(x for x in env.get("SLACK_ADMIN_IDS", "").replace(",", " ").split() if x),
            slack_port=_req_int(env, "SLACK_PORT", 3000),
            slack_backlog_limit=max(1, _req_int(env, "SLACK_BACKLOG_LIMIT", 1000)),
            slack_inbox_lease_seconds=max(1, _req_int(env, "SLACK_INBOX_LEASE_SECONDS", 60)),
            slack_files_url=_http_urls(env, "SLACK_FILES_URL"),
            health_port=_int(env, "STUDYBOT_HEALTH_PORT", None),
        )
