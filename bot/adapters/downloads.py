"""Fetching a file a member sent (a Discord attachment, a Slack file) from the platform's own file host.

Only URLs on the allowed hosts are fetched, redirects included; the size is capped before reading
(Content-Length) and while reading; the whole download has a timeout. A refusal is a DownloadError whose
`reply` says to the member what went wrong, never the URL (a Slack private URL is a secret of sorts)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import aiohttp

from bot.core.decks.limits import IMPORT_FILE_MAX
from bot.core.messages import Message, error

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 20.0
MAX_REDIRECTS = 3
CHUNK = 64 * 1024
DISCORD_CDN = ("https://cdn.discordapp.com", "https://media.discordapp.net")
SLACK_FILES = ("https://files.slack.com",)


class DownloadError(Exception):
    """The file could not be fetched; `reply` is the clear, private error the member gets."""

    def __init__(self, reply: Message, reason: str) -> None:
        super().__init__(reason)
        self.reply = reply


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:g} MB"


def too_big(limit: int) -> DownloadError:
    return DownloadError(
        error(f"That file is too big: the limit is {megabytes(limit)}.", "Split it into smaller files."),
        "too big",
    )


def content_length(value: str | None) -> int | None:
    """A Content-Length header as a size, or None when it is absent or not a plain decimal number (then
    only the cap while reading applies)."""
    if value is None:
        return None
    value = value.strip()
    if not value or not value.isascii() or not value.isdigit() or len(value) > 18:
        return None
    return int(value)


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int | None
    path: str = "/"


def origin(url: str) -> Origin | None:
    """The scheme, host, effective port and path of an http(s) URL; None if it is not one."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        return None
    port = port or (443 if scheme == "https" else 80)
    return Origin(scheme, parts.hostname.lower().rstrip("."), port, parts.path or "/")


def parse_hosts(raw: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """A setting of allowed bases, separated by commas or spaces; blank means the platform's own."""
    found = tuple(part for part in raw.replace(",", " ").split() if part)
    return found or default


@dataclass(frozen=True)
class Downloader:
    """Fetches files from the `allowed` bases only (e.g. https://cdn.discordapp.com)."""

    allowed: tuple[str, ...]
    platform: str  # "Discord", "Slack": named in errors
    limit: int = IMPORT_FILE_MAX
    timeout: float = TIMEOUT_SECONDS
    _origins: tuple[Origin, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        origins = tuple(o for o in (origin(a) for a in self.allowed) if o is not None)
        object.__setattr__(self, "_origins", origins)

    def allows(self, url: str) -> bool:
        found = origin(url)
        if found is None:
            return False
        return any(
            found.scheme == o.scheme
            and found.host == o.host
            and found.port == o.port
            and found.path.startswith(o.path.rstrip("/") + "/")
            for o in self._origins
        )

    def refuse_foreign(self) -> DownloadError:
        return DownloadError(
            error(
                f"I only fetch files from {self.platform}'s own file storage.",
                f"Upload the file to {self.platform} itself and try again.",
            ),
            "foreign host",
        )

    def check_size(self, size: int | None) -> None:
        """Refuse a file the platform says is too big before fetching anything."""
        if size is not None and size > self.limit:
            raise too_big(self.limit)

    async def fetch(
        self,
        url: str,
        headers: Mapping[str, str] | None = None,
        session: aiohttp.ClientSession | None = None,
        *,
        not_a_page: bool = False,
    ) -> bytes:
        """The file's bytes, or DownloadError. Redirects are followed only to allowed hosts. With
        `not_a_page`, an HTML answer is refused: Slack sends its sign-in page, with 200, to a token that
        may not read files."""
        if session is None:
            async with aiohttp.ClientSession() as own:
                return await self._fetch(own, url, headers or {}, not_a_page)
        return await self._fetch(session, url, headers or {}, not_a_page)

    async def _fetch(
        self, session: aiohttp.ClientSession, url: str, headers: Mapping[str, str], not_a_page: bool
    ) -> bytes:
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        try:
            for _ in range(MAX_REDIRECTS + 1):
                if not self.allows(url):
                    log.warning("download refused: not a %s file host", self.platform)
                    raise self.refuse_foreign()
                async with session.get(
                    url, headers=dict(headers), allow_redirects=False, timeout=timeout
                ) as response:
                    if response.status in (301, 302, 303, 307, 308) and "Location" in response.headers:
                        url = urljoin(url, response.headers["Location"])
                        continue
                    if response.status != 200:
                        log.warning("download failed status=%s", response.status)
                        raise DownloadError(
                            error(
                                f"{self.platform} did not hand over the file (HTTP {response.status}).",
                                "Upload it again and retry in a moment.",
                            ),
                            f"HTTP {response.status}",
                        )
                    if not_a_page and response.content_type == "text/html":
                        log.warning("download refused: a web page came instead of the file")
                        raise DownloadError(
                            error(
                                f"{self.platform} sent a sign-in page instead of the file.",
                                "The app may lack permission to read files: ask whoever installed it "
                                "to reinstall it with the files:read scope.",
                            ),
                            "html page",
                        )
                    self.check_size(content_length(response.headers.get("Content-Length")))
                    return await self._read(response)
            raise DownloadError(
                error(f"{self.platform} sent the file round in circles.", "Upload it again."), "redirects"
            )
        except TimeoutError:
            raise DownloadError(
                error(
                    f"The file took longer than {self.timeout:g} seconds to download.",
                    "Try again in a moment.",
                ),
                "timeout",
            ) from None
        except aiohttp.ClientError as exc:
            log.warning("download failed error=%s", type(exc).__name__)
            raise DownloadError(
                error(f"Could not download the file from {self.platform}.", "Try again in a moment."),
                type(exc).__name__,
            ) from None

    async def _read(self, response: aiohttp.ClientResponse) -> bytes:
        data = bytearray()
        async for chunk in response.content.iter_chunked(CHUNK):
            data += chunk
            if len(data) > self.limit:
                raise too_big(self.limit)
        return bytes(data)
