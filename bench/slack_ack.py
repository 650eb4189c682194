"""Slack ack latency: concurrent signed button clicks against a running `studybot run` in HTTP mode.

The bot runs as its own process (`studybot run`, Slack HTTP mode, one workspace) with its Web API and
response_urls pointed at a mock Slack in this process (tests/fakes/slack/), so client and server
don't share an event loop. Beforehand, through the core on the same database, each member is asked a card
and shown its answer; then every member clicks "Good", and some click it twice (a double click).

Measured: from writing each click's request to reading the status line of the ack (p50, p99, max), over
pre-opened connections with pre-signed requests, so the figures are the bot's and not the client's; the
time until every click's reply reached its response_url; and, in the database afterwards, one grade per
member: lost = members without a grade, doubled = members whose reviews were counted more than once.

By default the clicks come as one burst (all written at the same instant); `--over S` spreads them evenly
over S seconds. `--baseline` also measures a bare aiohttp server that answers 200 to the same requests,
the floor for this machine.

    .venv/bin/python bench/slack_ack.py [--clicks 200] [--doubles 50] [--over 0] [--baseline]
                                        [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.bootstrap import build_service, open_engine  # noqa: E402
from bot.config import normalise_url, sqlite_url  # noqa: E402
from bot.core.model.models import Caller  # noqa: E402
from bot.store.tables import asks, members, scores  # noqa: E402
from tests.fakes.slack.driver import Member, click_payload, command_body  # noqa: E402
from tests.fakes.slack.server import BOT_TOKEN, SECRET, TEAM, MockSlack, signed_headers  # noqa: E402
from tests.support.network import free_port  # noqa: E402

STUDYBOT = Path(sys.executable).parent / "studybot"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
BARE_SERVER = """
import sys
from aiohttp import web
async def ack(request):
    await request.read()
    return web.Response(text="")
app = web.Application()
app.router.add_post("/slack/events", ack)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""


async def prepare(db_url: str, people: int) -> dict[str, str]:
    """Each member's "Good" action id on a revealed card, made through the core."""
    service = await build_service(db_url, [REPO / "content"])
    try:
        goods: dict[str, str] = {}
        for n in range(people):
            user = f"U{n:05d}"
            caller = Caller(platform="slack", workspace_ref=TEAM, user_ref=user, display_name=user.lower())
            question = await service.quiz(caller)
            answer = await service.act(caller, question.actions[0].id)
            goods[user] = next(a.id for a in answer.actions if a.id.endswith(":good"))  # type: ignore[union-attr]
        return goods
    finally:
        await service.store.close()  # type: ignore[attr-defined]


async def listening(port: int, process: asyncio.subprocess.Process) -> None:
    for _ in range(300):
        if process.returncode is not None:
            raise SystemExit("the server exited before listening")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise SystemExit("the server did not start listening")


async def start_bot(
    db_url: str, mock: MockSlack, port: int, data: Path, profile: str = ""
) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "STUDYBOT_"))}
    env.update(
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_API_URL=mock.api_url,
        SLACK_PORT=str(port),
        STUDYBOT_DATA_DIR=str(data),
        STUDYBOT_CONTENT=str(REPO / "content"),
        STUDYBOT_LOG_LEVEL="WARNING",
        DATABASE_URL=db_url,
    )
    command = [str(STUDYBOT), "run"]
    if profile:  # cProfile of the whole bot process, written when it stops
        command = [sys.executable, "-m", "cProfile", "-o", profile, "-m", "bot.cli", "run"]
    process = await asyncio.create_subprocess_exec(*command, cwd=data, env=env)
    await listening(port, process)
    return process


def cpu_ms(pid: int) -> float:
    """User + system CPU the process has used so far (ms): less sensitive to a loaded machine than
    latency, so a change's effect shows even when other work shares the cores."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def http_request(port: int, body: bytes, headers: dict[str, str]) -> bytes:
    lines = ["POST /slack/events HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Content-Length: {len(body)}"]
    lines += ["Connection: close", *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def fire(port: int, requests: list[bytes], over: float) -> tuple[list[float], list[int], float]:
    """Send the requests on pre-opened connections, at once or spread over `over` seconds.
    Returns each ack's latency (ms), the statuses, and the seconds until the last ack."""
    connections = [await asyncio.open_connection("127.0.0.1", port) for _ in requests]
    gate = asyncio.Event()
    latencies: list[float] = []
    statuses: list[int] = []

    async def one(n: int, request: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await gate.wait()
        if over:
            await asyncio.sleep(n * over / len(requests))
        start = time.perf_counter()
        writer.write(request)
        status_line = await reader.readline()
        latencies.append((time.perf_counter() - start) * 1000)
        statuses.append(int(status_line.split()[1]))
        writer.close()

    tasks = [
        asyncio.create_task(one(n, request, reader, writer))
        for n, (request, (reader, writer)) in enumerate(zip(requests, connections, strict=True))
    ]
    await asyncio.sleep(0.2)
    started = time.perf_counter()
    gate.set()
    await asyncio.gather(*tasks)
    return latencies, statuses, time.perf_counter() - started


async def count(db_url: str) -> tuple[int, int, int]:
    """(members with a graded card, members counted more than once, total reviews counted)."""
    engine = open_engine(db_url)
    per_member = (
        sa.select(scores.c.member_id, sa.func.sum(scores.c.reviews).label("reviews"))
        .where(scores.c.period == "all")
        .group_by(scores.c.member_id)
        .subquery()
    )
    try:
        async with engine.connect() as conn:
            graded = await conn.scalar(
                sa.select(sa.func.count(sa.distinct(asks.c.member_id))).where(asks.c.grade.is_not(None))
            )
            doubled = await conn.scalar(
                sa.select(sa.func.count()).select_from(per_member).where(per_member.c.reviews > 1)
            )
            reviews = await conn.scalar(sa.select(sa.func.coalesce(sa.func.sum(per_member.c.reviews), 0)))
            assert await conn.scalar(sa.select(sa.func.count()).select_from(members)) is not None
        return int(graded or 0), int(doubled or 0), int(reviews or 0)
    finally:
        await engine.dispose()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def baseline(requests: list[bytes], over: float) -> dict[str, float]:
    port = free_port()
    server = await asyncio.create_subprocess_exec(sys.executable, "-c", BARE_SERVER, str(port))
    try:
        await listening(port, server)
        before = cpu_ms(server.pid)
        latencies, _, _ = await fire(port, requests, over)
        cpu = cpu_ms(server.pid) - before
    finally:
        server.send_signal(signal.SIGTERM)
        await server.wait()
    return {
        "bare_aiohttp_p50_ms": round(statistics.median(latencies), 1),
        "bare_aiohttp_p99_ms": round(pct(latencies, 0.99), 1),
        "bare_aiohttp_cpu_us_per_click": round(cpu * 1000 / len(requests)),
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="slack-ack-"))
    db_url = normalise_url(args.database_url) if args.database_url else sqlite_url(workdir / "bench.db")
    people = args.clicks - args.doubles
    goods = await prepare(db_url, people)

    mock = MockSlack()
    await mock.start()
    port = free_port()
    bot = await start_bot(db_url, mock, port, workdir, args.profile)
    try:
        # Everything signed up front, so the timed part is only the requests.
        clicks: list[tuple[bytes, str]] = []
        users = list(goods)
        for user in users + users[: args.doubles]:
            button = {
                "action_id": goods[user],
                "value": goods[user],
                "text": {"type": "plain_text", "text": "Good"},
            }
            payload, response_url = click_payload(mock, Member(user, name=user.lower()), button)
            body = urlencode({"payload": json.dumps(payload)})
            clicks.append((http_request(port, body.encode(), {**FORM, **signed_headers(body)}), response_url))

        # The first request also makes bolt's one auth.test: not what is measured.
        warm, _ = command_body(mock, Member("U_WARM"), "help")
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{port}/slack/events"
            async with http.post(url, data=warm, headers={**FORM, **signed_headers(warm)}) as response:
                assert response.status == 200

        started = time.perf_counter()
        cpu_before = cpu_ms(bot.pid)
        latencies, statuses, acked = await fire(port, [request for request, _ in clicks], args.over)
        burst_cpu = cpu_ms(bot.pid) - cpu_before
        await asyncio.gather(*(mock.reply(url, within=120) for _, url in clicks))
        replied = time.perf_counter() - started - 0.2
    finally:
        bot.send_signal(signal.SIGTERM)
        await bot.wait()
        await mock.stop()

    graded, doubled, reviews = await count(db_url)
    result: dict[str, Any] = {
        "database": "postgresql" if db_url.startswith("postgresql") else "sqlite",
        "clicks": len(clicks),
        "members": people,
        "double_clicks": args.doubles,
        "spread_over_s": args.over,
        "http_200": statuses.count(200),
        "ack_p50_ms": round(statistics.median(latencies), 1),
        "ack_p99_ms": round(pct(latencies, 0.99), 1),
        "ack_max_ms": round(max(latencies), 1),
        "all_acked_s": round(acked, 3),
        "load_average": round(os.getloadavg()[0], 2),
        "bot_cpu_us_per_click_until_acked": round(burst_cpu * 1000 / len(clicks)),
        "all_replied_s": round(replied, 3),
        "grades_expected": people,
        "grades_recorded": graded,
        "lost": people - graded,
        "doubled": doubled,
        "reviews_counted": reviews,
    }
    if args.baseline:
        result.update(await baseline([request for request, _ in clicks], args.over))
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clicks", type=int, default=200)
    parser.add_argument("--doubles", type=int, default=50, help="how many of the clicks are second clicks")
    parser.add_argument(
        "--over", type=float, default=0.0, help="seconds to spread the clicks over (0: a burst)"
    )
    parser.add_argument("--baseline", action="store_true", help="also measure a bare aiohttp server")
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (default: SQLite in a temp dir)")
    parser.add_argument("--profile", default="", metavar="FILE", help="run the bot under cProfile into FILE")
    result = asyncio.run(main(parser.parse_args()))
    print(json.dumps(result, indent=2))
    sys.exit(
        0 if result["lost"] == 0 and result["doubled"] == 0 and result["http_200"] == result["clicks"] else 1
    )
