"""Settings from the environment (and a .env file), validated once at start."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import load_dotenv

from bot.store.engine import normalise_url, sqlite_url


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names it."""


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    database_url: str = ""
    content_dirs: tuple[Path, ...] = (Path("content"),)
    log_level: str = "INFO"
    answer_limit: int = 2000
    secrets: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def db_url(self) -> str:
        return self.database_url or sqlite_url(self.data_dir / "studybot.db")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, dotenv: bool = True) -> Settings:
        if env is None:
            if dotenv:
                load_dotenv(Path.cwd() / ".env", override=False)
            env = dict(os.environ)
        data_dir = Path(env.get("STUDYBOT_DATA_DIR", "data"))
        content = env.get("STUDYBOT_CONTENT", "content")
        level = env.get("STUDYBOT_LOG_LEVEL", "INFO").upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ConfigError(f"STUDYBOT_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {level!r}")
        url = env.get("DATABASE_URL", "").strip()
        return cls(
            data_dir=data_dir,
            database_url=normalise_url(url) if url else "",
            content_dirs=tuple(Path(p) for p in content.split(os.pathsep) if p),
            log_level=level,
            answer_limit=_int(env, "STUDYBOT_ANSWER_LIMIT", 2000),
        )
