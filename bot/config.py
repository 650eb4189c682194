"""Settings from the environment (and a .env file), validated once at start. Every setting lives here."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dotenv import load_dotenv

from bot.store.engine import normalise_url, sqlite_url


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
    discord_shard_count: int | None = None
    discord_application_id: int | None = None
    discord_api_base: str = ""  # tests point discord.py at a local fake API
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
    # Operations.
    health_port: int | None = None

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
        shards = _int(env, "DISCORD_SHARD_COUNT", None)
        if shards is not None and shards < 1:
            raise ConfigError("DISCORD_SHARD_COUNT must be at least 1")
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
            discord_shard_count=shards,
            discord_application_id=_int(env, "DISCORD_APPLICATION_ID", None),
            discord_api_base=env.get("DISCORD_API_BASE", "").strip(),
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
            health_port=_int(env, "STUDYBOT_HEALTH_PORT", None),
        )
