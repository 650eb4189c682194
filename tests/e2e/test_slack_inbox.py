"""Acked Slack work survives a stop and a crash: a whole `studybot run` (HTTP mode, against the mock Slack)
is stopped with a large backlog of acked clicks, started again, and every acked click is graded exactly
once and answered on its response_url."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web

from bot.bootstrap import build_service
from bot.core.model.models import Caller
from bot.core.service import StudyService
from tests.conftest import CONTENT
from tests.e2e.test_ops_logs import SIGNING_SECRET
from tests.e2e.test_ops_sigterm import BotProcess, bot_env
from tests.fakes.slack.driver import Member, click_payload
from tests.fakes.slack.fixtures import running
from tests.fakes.slack.server import MockSlack, buttons, signed_headers, texts

TEAM = "T1"


class SlowReplies(MockSlack):
    """Accepts each reply after `delay` seconds, so acked clicks pile up faster than they are answered."""

    delay = 0.0

    async def _response(self, request: web.Request) -> web.Response:
        await asyncio.sleep(self.delay)
        return await super()._response(request)


async def revealed(db: Path, people: int) -> dict[str, str]:
    """Per member, the "Good" action of a revealed card, made through the core on the bot's database."""
    service = await build_service(f"sqlite+aiosqlite:///{db}", [CONTENT])
    try:
        goods: dict[str, str] = {}
        for n in range(people):
            user = f"U{n:04d}"
            caller = Caller(platform="slack", workspace_ref=TEAM, user_ref=user, display_name=user.lower())
            question = await service.quiz(caller)
            answer = await service.act(caller, question.actions[0].id)
            goods[user] = next(a.id for a in answer.actions if a.id.endswith(":good"))  # type: ignore[union-attr]
        return goods
    finally:
        await service.store.close()  # type: ignore[attr-defined]


async def click_all(mock: MockSlack, port: int, goods: dict[str, str]) -> tuple[list[str], int]:
    """Every member clicks "Good" at once; returns the response_urls of the clicks acked with 200, and
    how many were refused (asked to come back later)."""
    acked: list[str] = []
    refused = 0

    async def one(http: aiohttp.ClientSession, user: str, action: str) -> None:
        nonlocal refused
        button = {"action_id": action, "value": action, "text": {"type": "plain_text", "text": "Good"}}
        payload, url = click_payload(mock, Member(user, name=user.lower()), button)
        body = urlencode({"payload": json.dumps(payload)})
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            **signed_headers(body, SIGNING_SECRET),
        }
        async with http.post(f"http://127.0.0.1:{port}/slack/events", data=body, headers=headers) as resp:
            if resp.status == 200:
                acked.append(url)
            else:
                assert resp.status == 503, await resp.text()
                refused += 1

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as http:
        await asyncio.gather(*(one(http, user, action) for user, action in goods.items()))
    return acked, refused


def grades(db: Path) -> tuple[int, int]:
    """(asks graded, reviews counted on the all-time board): equal when nothing was counted twice."""
    with sqlite3.connect(db) as conn:
        graded = conn.execute("SELECT count(*) FROM asks WHERE grade IS NOT NULL").fetchone()[0]
        reviews = conn.execute("SELECT coalesce(sum(reviews), 0) FROM scores WHERE period = 'all'").fetchone()
    return int(graded), int(reviews[0])


@pytest.mark.parametrize("how", ["sigterm", "kill"])
async def test_acked_clicks_survive_a_stop_and_are_graded_once_after_a_restart(
    tmp_path: Path, how: str
) -> None:
    people = 200
    db = tmp_path / "data" / "studybot.db"
    db.parent.mkdir()
    goods = await revealed(db, people)
    mock = SlowReplies()
    await mock.start()
    env = bot_env(tmp_path, mock, SLACK_INBOX_LEASE_SECONDS="2", STUDYBOT_LOG_LEVEL="INFO")
    first = BotProcess(env, tmp_path)
    second = BotProcess(env, tmp_path)
    try:
        await first.start()
        await first.wait_for_log("running: ")
        mock.delay = 0.3  # ~25 answers a second: most clicks are still waiting when the stop comes
        acked, refused = await click_all(mock, first.slack_port, goods)
        await asyncio.sleep(0.5)
        if how == "sigterm":
            code, _ = await first.terminate()
            assert code == 0, first.output
        else:
            await first.kill()
        answered_before = sum(1 for url in acked if url.rsplit("/", 1)[1] in mock.responses)
        assert answered_before < len(acked), "the backlog was not large enough to test anything"

        mock.delay = 0.0
        await second.start()
        await second.wait_for_log("running: ")
        for url in acked:
            await mock.reply(url, within=30)
        await mock.settle(0.5)
        await second.terminate()
    finally:
        await first.kill()
        await second.kill()
        await mock.stop()

    assert refused == 0 and len(acked) == people
    assert grades(db) == (len(acked), len(acked)), first.output + second.output
    for url in acked:
        replies = mock.responses[url.rsplit("/", 1)[1]]
        if how == "sigterm":
            assert len(replies) == 1, replies  # finished or handed over, never both
            assert "Good — next review" in texts(replies[0]["blocks"]), replies
        else:
            # Killed between writing a grade and answering it, the click is redone after the restart and
            # answered with what the database holds: the grade, recorded once.
            shown = texts(replies[-1]["blocks"])
            assert "Good — next review" in shown or "already graded this question (Good)" in shown
    if how == "sigterm":
        left = [line for line in first.lines if "left" in line and "inbox" in line]
        assert left and "stopped cleanly" in first.output, first.output
        assert any("inbox" in line and "recovered" in line for line in second.lines), second.output


async def test_an_inbox_row_is_claimed_by_exactly_one_instance(db_url: str) -> None:
    from bot.adapters.slack.inbox import Inbox
    from bot.bootstrap import migrate, open_engine

    await migrate(db_url)
    engines = [open_engine(db_url) for _ in range(3)]  # three instances, each with its own
    stopping, a, b = (Inbox(e, lease_seconds=60) for e in engines)
    try:
        stopping.start()
        kept = [await stopping.add("action", {"n": n}) for n in range(40)]
        assert await a.claim(100) == []  # held by a live instance: nobody takes them
        await stopping.release([item.id for item in kept[:30]])  # it stops with 30 left
        got_a, got_b = await asyncio.gather(a.claim(100), b.claim(100))
        ids_a, ids_b = {i.id for i in got_a}, {i.id for i in got_b}
        assert not ids_a & ids_b and ids_a | ids_b == {i.id for i in kept[:30]}
        assert all(i.body == {"n": kept.index(next(k for k in kept if k.id == i.id))} for i in got_a)
        assert await a.claim(100) == [] and await b.claim(100) == []

        a.lease = timedelta(seconds=0)  # the stopping instance died holding 10: lease lapsed
        taken = await a.claim(100)
        assert {i.id for i in taken} == {i.id for i in kept[30:]} and all(i.attempts == 2 for i in taken)
        assert await b.claim(100) == []  # a's own claim is fresh
    finally:
        await stopping.close()
        for engine in engines:
            await engine.dispose()


async def test_past_the_backlog_limit_slack_is_asked_to_retry(service: StudyService) -> None:
    mock = SlowReplies()
    await mock.start()
    try:
        async with running(mock, service, slack_backlog_limit=2) as slack:
            mock.delay = 1.0
            members = [Member(f"U_{n}", name=f"m{n}") for n in range(3)]
            questions = [await slack.ask(m, "quiz") for m in members]
            bodies = []
            for m, q in zip(members, questions, strict=True):
                button = next(b for b in buttons(q["blocks"]) if b["value"].startswith("reveal:"))
                payload, url = click_payload(mock, m, button)
                bodies.append((urlencode({"payload": json.dumps(payload)}), url))
            statuses = await asyncio.gather(*(slack.post(body) for body, _ in bodies))
            assert sorted(s for s, _ in statuses) == [200, 200, 503]
            refused = next(url for (_, url), (s, _) in zip(bodies, statuses, strict=True) if s == 503)
            await mock.settle(1.5)
            assert refused.rsplit("/", 1)[1] not in mock.responses  # nothing was kept for it
            # Slack's retry of a refused request (reason http_error) is handled, once there is room.
            body = next(b for b, url in bodies if url == refused)
            status, _ = await slack.post(
                body, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}
            )
            assert status == 200
            assert "Model answer" in texts((await mock.reply(refused, within=5))["blocks"])
    finally:
        await mock.stop()
