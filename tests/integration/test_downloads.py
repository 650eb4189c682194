"""Downloading a member's file: only from the platform's own host, capped in size before and while
reading, within a timeout, with a clear error for the member otherwise (a local server plays the host)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.downloads import DISCORD_CDN, Downloader, DownloadError, content_length, origin, parse_hosts


class Host:
    """A file host on 127.0.0.1 with a few misbehaving routes."""

    def __init__(self) -> None:
        self.base = ""
        self.runner: web.AppRunner | None = None
        self.auth: list[str | None] = []

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/files/deck.md", self.deck)
        app.router.add_get("/files/huge-declared", self.huge_declared)
        app.router.add_get("/files/huge-streamed", self.huge_streamed)
        app.router.add_get("/files/slow", self.slow)
        app.router.add_get("/files/away", self.away)
        app.router.add_get("/files/gone", self.gone)
        app.router.add_get("/elsewhere/deck.md", self.deck)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"

    async def deck(self, request: web.Request) -> web.Response:
        self.auth.append(request.headers.get("Authorization"))
        return web.Response(body=b"# Deck\n")

    async def huge_declared(self, request: web.Request) -> web.Response:
        # Says 6 MB up front: refused before a byte of the body is read.
        return web.Response(body=b"x" * 10, headers={"Content-Length": "6000000"})

    async def huge_streamed(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()  # chunked: no Content-Length
        await response.prepare(request)
        for _ in range(200):
            await response.write(b"x" * 32_768)
        return response

    async def slow(self, request: web.Request) -> web.Response:
        await asyncio.sleep(0.5)
        return web.Response(body=b"late")

    async def away(self, request: web.Request) -> web.Response:
        raise web.HTTPFound("http://example.invalid/evil.md")

    async def gone(self, request: web.Request) -> web.Response:
        return web.Response(status=404)


@pytest.fixture
async def host() -> AsyncIterator[Host]:
    served = Host()
    await served.start()
    yield served
    assert served.runner is not None
    await served.runner.cleanup()


def downloader(host: Host, **kwargs: float) -> Downloader:
    return Downloader((host.base + "/files",), "Discord", limit=5_000_000, **kwargs)  # type: ignore[arg-type]


async def refused(down: Downloader, url: str) -> str:
    with pytest.raises(DownloadError) as caught:
        await down.fetch(url)
    reply = caught.value.reply
    assert reply.is_error and reply.private
    return reply.title


async def test_a_file_on_the_allowed_host_is_fetched_with_the_headers_given(host: Host) -> None:
    data = await downloader(host).fetch(host.base + "/files/deck.md", {"Authorization": "Bearer xoxb-1"})
    assert data == b"# Deck\n"
    assert host.auth == ["Bearer xoxb-1"]


async def test_other_hosts_and_paths_are_never_asked(host: Host) -> None:
    down = downloader(host)
    assert "only fetch files from Discord" in await refused(down, host.base + "/elsewhere/deck.md")
    assert "only fetch files from Discord" in await refused(down, "http://example.com/files/deck.md")
    assert "only fetch files from Discord" in await refused(down, "file:///etc/passwd")
    # A redirect away from the host is refused too, before it is followed.
    assert "only fetch files from Discord" in await refused(down, host.base + "/files/away")
    assert host.auth == []


async def test_too_big_is_refused_by_its_length_or_while_reading(host: Host) -> None:
    down = downloader(host)
    assert "too big: the limit is 5 MB" in await refused(down, host.base + "/files/huge-declared")
    assert "too big" in await refused(down, host.base + "/files/huge-streamed")
    with pytest.raises(DownloadError):
        down.check_size(5_000_001)
    down.check_size(5_000_000)


async def test_slow_and_missing_files_are_named(host: Host) -> None:
    slow = downloader(host, timeout=0.2)
    assert "longer than 0.2 seconds" in await refused(slow, host.base + "/files/slow")
    assert "HTTP 404" in await refused(downloader(host), host.base + "/files/gone")


def test_the_platforms_own_hosts_are_allowed_by_default() -> None:
    down = Downloader(("https://cdn.discordapp.com", "https://media.discordapp.net"), "Discord")
    assert down.allows("https://cdn.discordapp.com/attachments/1/2/deck.csv?ex=1&is=2")
    assert down.allows("https://CDN.discordapp.com./attachments/1/2/deck.csv")
    assert not down.allows("http://cdn.discordapp.com/attachments/1/2/deck.csv")  # not https
    assert not down.allows("https://cdn.discordapp.com.evil.example/a")
    assert not down.allows("https://user@cdn.discordapp.com/a")
    assert not down.allows("https://cdn.discordapp.com:8443/a")


@given(st.text(max_size=30))
def test_content_length_is_a_size_or_nothing(value: str) -> None:
    size = content_length(value)
    if size is not None:
        assert size >= 0 and str(size) == value.strip().lstrip("0").rjust(1, "0")


@given(st.integers(min_value=0, max_value=10**17))
def test_content_length_reads_plain_numbers(size: int) -> None:
    assert content_length(f" {size} ") == size


@given(st.text(max_size=60))
def test_origin_never_raises(url: str) -> None:
    found = origin(url)
    if found is not None:
        assert found.scheme in ("http", "https") and found.host


def test_the_file_host_settings() -> None:
    from bot.config import ConfigError, Settings

    assert Settings.from_env({}).discord_cdn_url == "" and Settings.from_env({}).slack_files_url == ""
    both = "http://127.0.0.1:1/cdn, https://cdn.example"
    assert parse_hosts(Settings.from_env({"DISCORD_CDN_URL": both}).discord_cdn_url, ("x",)) == (
        "http://127.0.0.1:1/cdn",
        "https://cdn.example",
    )
    assert parse_hosts("", DISCORD_CDN) == DISCORD_CDN
    for name in ("DISCORD_CDN_URL", "SLACK_FILES_URL"):
        with pytest.raises(ConfigError, match=name):
            Settings.from_env({name: "files.slack.com"})
