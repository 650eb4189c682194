"""Daily fan-out: many channels due in the same minute, posted through a rate-limited platform.

    .venv/bin/python bench/fanout.py                      # 2,000 channels at 200 posts/s, SQLite
    .venv/bin/python bench/fanout.py --rate 500 --postgres postgresql://postgres@127.0.0.1:5432/postgres

A fake platform on 127.0.0.1 (aiohttp) lets R requests per second through a token bucket and answers
429 with a fractional Retry-After beyond it, as Discord does. Like Discord's `nonce` + `enforce_nonce`, it
treats a repeated idempotency key (the daily post id) as the same message, so a post re-sent after a crash
does not show twice; `--no-idempotency` turns that off to show what a platform without it would get.

Phase 1 runs one DailyRunner (in a child process) over all channels and prints posts/s against R,
duplicates and misses. Phase 2 starts again from an empty post table, kills the runner with SIGKILL at
about half way, starts a fresh one on the same database and checks every channel got exactly one post.

    .venv/bin/python bench/fanout.py reminders            # 20,000 members' reminders at R = 300/s, 3 runs

The reminder fan-out: 20,000 members with a card due and a reminder at the same UTC minute (in six zones)
get one direct message each through the OutreachRunner (in a child process), three times from an empty
claims table. The clock starts when the runner's process is spawned, before its start-up (imports, engine,
the due query), and stops at the last message accepted; the figure is not clamped to R, so it says how close
to R the whole fan-out gets. Duplicates are counted per member with no idempotency key to hide them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import sqlalchemy as sa
from aiohttp import web

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.bootstrap import build_service, daily_runner, open_engine, outreach_runner  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.core.messages import Message  # noqa: E402
from bot.core.model.models import Caller  # noqa: E402
from bot.schedule.poster import PermanentPostError, PostRef, RetryablePostError  # noqa: E402
from bot.store.tables import (  # noqa: E402
    card_states,
    cards,
    daily_channels,
    daily_posts,
    members,
    outreach,
    workspaces,
)
from tests.db import fresh_postgres_database  # noqa: E402

PLATFORM = "bench"
WORKSPACE = "w1"
# Channels spread over zones; each gets the local time that is the same UTC minute.
ZONES = (
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Sydney",
    "America/Los_Angeles",
)


# -- the fake platform ---------------------------------------------------------------------------------


@dataclass
class Platform:
    rate: float
    burst: float
    idempotent: bool = True
    tokens: float = 0.0
    refilled: float = field(default_factory=time.monotonic)
    messages: Counter[str] = field(default_factory=Counter)  # channel -> messages visible
    keys: dict[str, str] = field(default_factory=dict)  # idempotency key -> message id
    replays: int = 0
    limited: int = 0
    first_request: float | None = None
    last_accept: float | None = None

    def reset(self) -> None:
        self.tokens = self.burst
        self.refilled = time.monotonic()
        self.messages.clear()
        self.keys.clear()
        self.replays = self.limited = 0
        self.first_request = self.last_accept = None

    def take(self) -> float:
        """0 when the request may pass, else the seconds until a token is free."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.refilled) * self.rate)
        self.refilled = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate

    async def handle(self, request: web.Request) -> web.Response:
        now = time.monotonic()
        if self.first_request is None:
            self.first_request = now
        wait = self.take()
        if wait:
            self.limited += 1
            retry_after = f"{wait:.3f}"
            return web.json_response(
                {"message": "You are being rate limited.", "retry_after": float(retry_after)},
                status=429,
                headers={"Retry-After": retry_after},
            )
        body = await request.json()
        channel = request.match_info["channel"]
        key = body.get("nonce")
        if self.idempotent and key and key in self.keys:
            self.replays += 1
            return web.json_response({"id": self.keys[key], "channel_id": channel})
        self.messages[channel] += 1
        message_id = f"{channel}-{self.messages[channel]}"
        if key:
            self.keys[key] = message_id
        self.last_accept = time.monotonic()
        return web.json_response({"id": message_id, "channel_id": channel, "thread_id": f"t-{message_id}"})


async def serve(platform: Platform) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/channels/{channel}/messages", platform.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


# -- the poster and the worker (a child process, so it can be killed) ----------------------------------


class HttpPoster:
    """A Poster for the fake platform, sorting its answers into retryable and permanent errors."""

    platform = PLATFORM

    def __init__(self, base: str, session: aiohttp.ClientSession) -> None:
        self.base = base
        self.session = session

    async def post(self, workspace_ref: str, channel_ref: str, message: Message, thread_name: str) -> PostRef:
        # The daily post id rides in the Reveal button; it is the natural idempotency key.
        nonce = next((a.id for a in message.actions if a.id.startswith("daily:")), None)
        payload = {"content": message.plain_text(), "nonce": nonce, "thread_name": thread_name}
        try:
            async with self.session.post(
                f"{self.base}/channels/{channel_ref}/messages", json=payload
            ) as resp:
                if resp.status == 429:
                    raise RetryablePostError("rate limited", float(resp.headers.get("Retry-After", "1")))
                if resp.status >= 500:
                    raise RetryablePostError(f"HTTP {resp.status}")
                if resp.status in (403, 404):
                    raise PermanentPostError(f"HTTP {resp.status}: {await resp.text()}")
                resp.raise_for_status()
                data = await resp.json()
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            raise RetryablePostError(f"connection: {exc}") from exc
        return PostRef(data["id"], data.get("thread_id"))

    async def dm(self, workspace_ref: str, user_ref: str, message: Message) -> PostRef:
        """A direct message, as one request (no idempotency key: a re-send would show as a duplicate)."""
        payload = {"content": message.plain_text()}
        try:
            async with self.session.post(f"{self.base}/channels/{user_ref}/messages", json=payload) as resp:
                if resp.status == 429:
                    raise RetryablePostError("rate limited", float(resp.headers.get("Retry-After", "1")))
                if resp.status >= 500:
                    raise RetryablePostError(f"HTTP {resp.status}")
                if resp.status in (403, 404):
                    raise PermanentPostError(f"HTTP {resp.status}: {await resp.text()}")
                resp.raise_for_status()
                data = await resp.json()
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            raise RetryablePostError(f"connection: {exc}") from exc
        return PostRef(data["id"])


class OffsetClock:
    """Real time moved by a fixed offset, the same in every process, so claims compare across instances."""

    def __init__(self, offset: float) -> None:
        self.offset = timedelta(seconds=offset)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


async def worker(args: argparse.Namespace) -> None:
    clock = OffsetClock(args.offset)
    service = await build_service(args.db_url, [REPO / "content"], clock=clock)
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        runner = daily_runner(
            service,
            {PLATFORM: HttpPoster(args.api, session)},
            Settings(),
            clock=clock,
            concurrency=args.concurrency,
            claim_timeout=timedelta(seconds=args.claim_timeout),
            post_timeout=10,
        )
        started = time.monotonic()
        posted = 0
        while True:
            results = await runner.sweep()
            posted += sum(r.status.value == "posted" for r in results)
            async with service.store.engine.connect() as conn:  # type: ignore[attr-defined]
                done = (
                    await conn.execute(
                        sa.select(sa.func.count())
                        .select_from(daily_posts)
                        .where(daily_posts.c.posted_at.is_not(None))
                    )
                ).scalar_one()
            if done >= args.channels or time.monotonic() - started > args.patience:
                break
            await asyncio.sleep(0.5)  # claims left by a killed runner free up after the claim timeout
        print(json.dumps({"posted": posted, "seconds": round(time.monotonic() - started, 2)}), flush=True)
    await service.store.close()  # type: ignore[attr-defined]


# -- the driver --------------------------------------------------------------------------------------


class FixedClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


async def configure(db_url: str, channels: int, due: datetime) -> float:
    """Set up the channels, all due at the same UTC minute: the first through /daily set (the real path),
    the rest copied from it in one insert, which is much faster than thousands of commands."""
    service = await build_service(db_url, [REPO / "content"], clock=FixedClock(due - timedelta(minutes=1)))
    admin = Caller(platform=PLATFORM, workspace_ref=WORKSPACE, user_ref="admin", is_admin=True)
    started = time.monotonic()
    reply = await service.daily.configure(admin, "c00000", f"{due:%H:%M}", "UTC")
    assert not reply.is_error, reply.title
    engine = service.store.engine  # type: ignore[attr-defined]
    async with engine.begin() as conn:
        template = dict((await conn.execute(sa.select(daily_channels))).one()._mapping)
        rows = []
        for n in range(1, channels):
            zone = ZONES[n % len(ZONES)]
            local = due.astimezone(ZoneInfo(zone))
            rows.append(
                template
                | {
                    "id": None,
                    "channel_ref": f"c{n:05d}",
                    "post_time": f"{local:%H:%M}",
                    "timezone": zone,
                    "order_seed": secrets.token_hex(8),
                }
            )
        for row in rows:
            del row["id"]
        if rows:
            await conn.execute(sa.insert(daily_channels), rows)
    await service.store.close()  # type: ignore[attr-defined]
    return time.monotonic() - started


async def clear_posts(db_url: str) -> None:
    engine = open_engine(db_url)
    async with engine.begin() as conn:
        await conn.execute(sa.delete(daily_posts))
    await engine.dispose()


def spawn(args: argparse.Namespace, api: str, offset: float, claim_timeout: float) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        __file__,
        "worker",
        "--db-url",
        args.db_url,
        "--api",
        api,
        "--offset",
        repr(offset),
    ]
    command += ["--channels", str(args.channels), "--concurrency", str(args.concurrency)]
    command += ["--claim-timeout", str(claim_timeout)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


def report(platform: Platform, channels: int) -> dict[str, int]:
    duplicates = sum(n - 1 for n in platform.messages.values() if n > 1)
    misses = channels - sum(1 for n in platform.messages.values() if n >= 1)
    return {"posted": sum(platform.messages.values()), "duplicates": duplicates, "misses": misses}


async def kill_at(proc: subprocess.Popen[str], platform: Platform, posts: int) -> int:
    """SIGKILL the runner once the platform has `posts` messages; returns how many it had by then."""
    while sum(platform.messages.values()) < posts and proc.poll() is None:  # noqa: ASYNC110 (a child process)
        await asyncio.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    await asyncio.to_thread(proc.wait)
    return sum(platform.messages.values())


async def drive(args: argparse.Namespace) -> int:
    platform = Platform(
        rate=args.rate, burst=args.burst or max(1.0, args.rate / 10), idempotent=args.idempotency
    )
    web_runner, api = await serve(platform)
    due = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=2)
    setup = await configure(args.db_url, args.channels, due)
    print(
        f"{args.channels} channels in {len(ZONES)} timezones set up in {setup:.1f} s, "
        f"all due at {due:%H:%M} UTC"
    )
    print(f"platform: {args.rate:g} requests/s, burst {platform.burst:g}, 429 + Retry-After beyond")
    ok = True

    # Phase 1: one runner, the whole minute's fan-out. Its clock says one second past the due minute.
    platform.reset()
    offset = (due + timedelta(seconds=1) - datetime.now(UTC)).total_seconds()
    await asyncio.to_thread(spawn(args, api, offset, claim_timeout=600).communicate)
    stats = report(platform, args.channels)
    assert platform.first_request is not None and platform.last_accept is not None
    span = platform.last_accept - platform.first_request
    rate = stats["posted"] / span if span > 0 else float("inf")
    print(
        f"phase 1: {stats['posted']} posts in {span:.2f} s = {rate:.1f} posts/s "
        f"({rate / args.rate:.2f} × R); "
        f"429s {platform.limited}; duplicates {stats['duplicates']}; misses {stats['misses']}"
    )
    ok &= rate >= 0.9 * args.rate and stats["duplicates"] == 0 and stats["misses"] == 0

    # Phase 2: the same fan-out again from an empty post table; kill -9 at half way, restart.
    await clear_posts(args.db_url)
    platform.reset()
    offset = (due + timedelta(seconds=1) - datetime.now(UTC)).total_seconds()
    at_kill = await kill_at(spawn(args, api, offset, args.claim_timeout), platform, args.channels // 2)
    restarted = time.monotonic()
    await asyncio.to_thread(spawn(args, api, offset, args.claim_timeout).communicate)
    stats = report(platform, args.channels)
    print(
        f"phase 2: SIGKILL after {at_kill} posts; the restarted runner finished in "
        f"{time.monotonic() - restarted:.1f} s (claim timeout {args.claim_timeout:g} s): "
        f"{stats['posted']} posts for {args.channels} channels; duplicates {stats['duplicates']}; "
        f"misses {stats['misses']}; re-sends absorbed by the idempotency key {platform.replays}"
    )
    ok &= stats["duplicates"] == 0 and stats["misses"] == 0
    await web_runner.cleanup()
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


# -- reminders ---------------------------------------------------------------------------------------


async def reminder_worker(args: argparse.Namespace) -> None:
    clock = OffsetClock(args.offset)
    service = await build_service(args.db_url, [REPO / "content"], clock=clock)
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        runner = outreach_runner(
            service,
            {PLATFORM: HttpPoster(args.api, session)},  # type: ignore[dict-item]
            concurrency=args.concurrency,
            claim_timeout=timedelta(seconds=args.claim_timeout),
            post_timeout=10,
        )
        started = time.monotonic()
        sent = 0
        while sent < args.members and time.monotonic() - started < args.patience:
            sent += (await runner.sweep())["sent"]
        print(json.dumps({"sent": sent, "seconds": round(time.monotonic() - started, 2)}), flush=True)
    await service.store.close()  # type: ignore[attr-defined]


async def configure_members(db_url: str, members_count: int, due: datetime) -> float:
    """Members with one card due and a reminder at the same UTC minute in six zones, bulk-inserted."""
    service = await build_service(db_url, [REPO / "content"], clock=FixedClock(due - timedelta(minutes=1)))
    started = time.monotonic()
    engine = service.store.engine  # type: ignore[attr-defined]
    async with engine.begin() as conn:
        card_id = (await conn.execute(sa.select(sa.func.min(cards.c.id)))).scalar_one()
        await conn.execute(
            sa.insert(workspaces),
            [{"id": f"{PLATFORM}:{WORKSPACE}", "platform": PLATFORM, "created_at": due}],
        )
        rows = []
        for n in range(members_count):
            zone = ZONES[n % len(ZONES)]
            rows.append(
                {
                    "workspace_id": f"{PLATFORM}:{WORKSPACE}",
                    "user_ref": f"u{n:06d}",
                    "display_name": f"member {n}",
                    "timezone": zone,
                    "timezone_chosen": True,
                    "reminder_time": f"{due.astimezone(ZoneInfo(zone)):%H:%M}",
                    "created_at": due,
                }
            )
        await conn.execute(sa.insert(members), rows)
        ids = list((await conn.execute(sa.select(members.c.id))).scalars())
        await conn.execute(
            sa.insert(card_states),
            [
                {"member_id": i, "card_id": card_id, "state": 2, "due": due - timedelta(days=1), "reps": 1}
                for i in ids
            ],
        )
    await service.store.close()  # type: ignore[attr-defined]
    return time.monotonic() - started


async def clear_outreach(db_url: str) -> None:
    engine = open_engine(db_url)
    async with engine.begin() as conn:
        await conn.execute(sa.delete(outreach))
    await engine.dispose()


async def drive_reminders(args: argparse.Namespace) -> int:
    platform = Platform(rate=args.rate, burst=args.burst or max(1.0, args.rate / 10), idempotent=False)
    web_runner, api = await serve(platform)
    due = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=2)
    setup = await configure_members(args.db_url, args.members, due)
    print(
        f"{args.members} members in {len(ZONES)} time zones set up in {setup:.1f} s, "
        f"reminders at {due:%H:%M} UTC"
    )
    print(f"platform: {args.rate:g} requests/s, burst {platform.burst:g}, 429 + Retry-After beyond")
    ok = True
    for run in range(1, args.runs + 1):
        await clear_outreach(args.db_url)
        platform.reset()
        platform.tokens = 0.0  # no saved-up burst at the start: every message is paid for at R
        offset = (due + timedelta(seconds=1) - datetime.now(UTC)).total_seconds()
        command = [sys.executable, __file__, "reminder-worker", "--db-url", args.db_url, "--api", api]
        command += ["--offset", repr(offset), "--members", str(args.members)]
        command += ["--concurrency", str(args.concurrency), "--claim-timeout", str(args.claim_timeout)]
        started = time.monotonic()  # before the runner's start-up: it is part of the fan-out's time
        proc = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE)
        out = (await proc.communicate())[0].decode()
        load = os.getloadavg()
        stats = report(platform, args.members)
        assert platform.last_accept is not None and platform.first_request is not None
        whole = platform.last_accept - started
        rate = stats["posted"] / whole
        sending = stats["posted"] / (platform.last_accept - platform.first_request)
        print(
            f"run {run}: {stats['posted']} reminders in {whole:.2f} s from spawn = {rate:.1f}/s "
            f"({rate / args.rate:.3f} × R; {sending:.1f}/s from the first request); 429s {platform.limited}; "
            f"duplicates {stats['duplicates']}; misses {stats['misses']}; "
            f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; worker {out.strip()}"
        )
        ok &= rate >= 0.9 * args.rate and stats["duplicates"] == 0 and stats["misses"] == 0
    await web_runner.cleanup()
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "mode", nargs="?", default="drive", choices=["drive", "worker", "reminders", "reminder-worker"]
    )
    parser.add_argument("--channels", type=int, default=2000)
    parser.add_argument("--members", type=int, default=20000, help="reminders: members due at once")
    parser.add_argument("--runs", type=int, default=3, help="reminders: how many runs")
    parser.add_argument(
        "--rate", type=float, default=200.0, help="R: requests per second the platform allows"
    )
    parser.add_argument("--burst", type=float, default=0.0, help="token bucket size (default R/10)")
    parser.add_argument("--concurrency", type=int, default=32, help="posts in flight per runner")
    parser.add_argument(
        "--claim-timeout", type=float, default=5.0, help="seconds before a stuck claim is retried"
    )
    parser.add_argument(
        "--postgres", default="", help="a PostgreSQL server URL: run on a throw-away database there"
    )
    parser.add_argument("--no-idempotency", dest="idempotency", action="store_false")
    parser.add_argument("--db-url", default="", help=argparse.SUPPRESS)
    parser.add_argument("--api", default="", help=argparse.SUPPRESS)
    parser.add_argument("--offset", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--patience", type=float, default=120.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode == "worker":
        asyncio.run(worker(args))
        return 0
    if args.mode == "reminder-worker":
        asyncio.run(reminder_worker(args))
        return 0
    run = drive_reminders if args.mode == "reminders" else drive
    if args.mode == "reminders" and args.rate == 200.0:
        args.rate = 300.0
    if args.postgres:
        with fresh_postgres_database(args.postgres, prefix="studybot_fanout") as url:
            args.db_url = url
            return asyncio.run(run(args))
    with tempfile.TemporaryDirectory() as tmp:
        args.db_url = f"sqlite+aiosqlite:///{os.path.join(tmp, 'fanout.db')}"
        return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
