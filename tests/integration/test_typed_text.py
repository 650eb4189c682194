"""Text the database cannot store (NUL, unpaired surrogates) or that is longer than its column gets a
clear reply naming the field, on SQLite and PostgreSQL alike, and nothing is half-written."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.bootstrap import build_service
from bot.core.commands import run_text_command
from bot.core.messages import Form, Message, Reply
from bot.core.model import daily, typed_text
from bot.core.model.models import Caller
from bot.core.service import StudyService
from bot.core.services import teams as teams_service
from bot.store import tables
from tests.conftest import CONTENT, FakeClock, member

ADMIN = member("ada", admin=True)
BAD = {"NUL": ("a\x00b", "a NUL character (U+0000)"), "surrogate": ("a\ud800b", "(U+D800)")}


async def text(service: StudyService, line: str, caller: Caller = ADMIN) -> Message:
    reply = await run_text_command(service, caller, line)
    assert isinstance(reply, Message)
    return reply


async def rows(service: StudyService, table: sa.Table) -> int:
    async with service.store.engine.connect() as conn:  # type: ignore[attr-defined]
        return int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one())


async def open_ask(service: StudyService, who: Caller = ADMIN) -> int:
    asked = await service.quiz(who)
    return int(asked.actions[0].id.split(":")[1])


@pytest.mark.parametrize("kind", BAD)
async def test_every_typed_field_refuses_what_cannot_be_stored(service: StudyService, kind: str) -> None:
    bad, described = BAD[kind]
    ask = await open_ask(service)
    cases: list[tuple[str, Awaitable[Reply]]] = [
        ("team name", service.team_join(ADMIN, f"Owls {bad}")),
        ("team name", text(service, f"/team join {bad}")),
        ("answer", service.submit(ADMIN, f"answer:{ask}", f"my answer {bad}")),
        ("deck name", service.quiz(ADMIN, bad)),
        ("deck name", service.act(ADMIN, f"next:{bad}")),
        ("period", service.leaderboard(ADMIN, bad)),
        ("channel", text(service, f"/daily set {bad} 09:00 UTC")),
        ("time", service.daily.configure(ADMIN, "general", bad, "UTC")),
        ("time zone", service.daily.configure(ADMIN, "general", "09:00", bad)),
        ("deck name", service.daily.configure(ADMIN, "general", "09:00", "UTC", deck=bad)),
        ("weekdays", service.daily.configure(ADMIN, "general", "09:00", "UTC", weekdays=bad)),
        ("channel", service.daily.status(ADMIN, bad)),
        ("channel", service.daily.off(ADMIN, bad)),
        ("channel", service.daily.post_now(ADMIN, bad)),
    ]
    for field, call in cases:
        reply = await call
        assert isinstance(reply, Message) and reply.is_error and reply.private, field
        assert reply.title.startswith(f"The {field} you sent contains "), reply.title
        assert described in reply.title, reply.title
        assert reply.sections[0].text == "Remove that character and send it again."
    # Nothing was half-written: no team, no typed answer, no daily channel.
    assert await rows(service, tables.teams) == 0
    assert await rows(service, tables.daily_channels) == 0
    stored = await service.store.get_ask(ask)
    assert stored is not None and stored.typed_answer is None


@pytest.mark.parametrize("kind", BAD)
async def test_a_display_name_that_cannot_be_stored_is_stored_readably(
    service: StudyService, kind: str
) -> None:
    bad, _described = BAD[kind]
    odd = Caller("test", "guild-1", "zed", display_name=f"Zed {bad}" + "x" * 200)
    ask = await open_ask(service, odd)
    graded = await service.act(odd, f"grade:{ask}:good")
    assert isinstance(graded, Message) and not graded.is_error, graded.title
    board = await service.leaderboard(odd)
    assert "1. Zed a\ufffdb" in board.sections[0].text


@pytest.mark.parametrize("kind", BAD)
async def test_an_id_that_cannot_be_stored_is_refused(service: StudyService, kind: str) -> None:
    bad, described = BAD[kind]
    for odd in (member(bad), Caller("test", bad, "zed")):
        reply = await service.stats(odd)
        assert reply.is_error and described in reply.title, reply.title
    too_long = member("z" * 101)
    reply = await service.quiz(too_long)
    assert reply.is_error and reply.title == "Your user id is 101 characters long; I can store 100."
    assert await rows(service, tables.members) == 0


async def test_a_team_name_within_40_characters_that_compares_longer_is_refused(
    service: StudyService,
) -> None:
    reply = await service.team_join(ADMIN, "ß" * 40)  # compared as 'ss' * 40
    assert reply.is_error
    assert reply.title == (
        "Team names can be at most 40 characters when compared (ß counts as ss); that one has 80."
    )
    assert await rows(service, tables.teams) == 0
    ok = await service.team_join(ADMIN, "ß" * 20)
    assert ok.title == f"You joined team {'ß' * 20}."


async def test_a_long_typed_word_is_quoted_back_short(service: StudyService) -> None:
    reply = await service.quiz(ADMIN, "deck\n" + "x" * 5000)
    assert reply.is_error
    assert reply.title == f"There is no deck called “deck {'x' * 54}…”."


def test_the_cores_limits_are_the_columns_sizes() -> None:
    def size(column: sa.Column[str]) -> int | None:
        return getattr(column.type, "length", None)

    assert size(tables.members.c.user_ref) == typed_text.USER_REF_LIMIT
    assert size(tables.members.c.display_name) == typed_text.DISPLAY_NAME_LIMIT
    assert size(tables.workspaces.c.id) == typed_text.WORKSPACE_ID_LIMIT
    assert size(tables.daily_channels.c.channel_ref) == daily.CHANNEL_LIMIT
    assert size(tables.teams.c.name) == size(tables.teams.c.name_key) == teams_service.TEAM_NAME_LIMIT


# -- any text in any field: a reply, never an exception ---------------------------------------------

# Every place a member's text enters the core, each with the text put in.
FIELDS: dict[str, Callable[[StudyService, str], Awaitable[Reply]]] = {
    "a whole command line": lambda s, t: run_text_command(s, ADMIN, t),
    "/quiz deck": lambda s, t: run_text_command(s, ADMIN, f"/quiz {t}"),
    "/leaderboard period": lambda s, t: run_text_command(s, ADMIN, f"/leaderboard {t}"),
    "/team join name": lambda s, t: run_text_command(s, ADMIN, f"/team join {t}"),
    "/team sub": lambda s, t: run_text_command(s, ADMIN, f"/team {t}"),
    "/daily set words": lambda s, t: run_text_command(s, ADMIN, f"/daily set general 09:00 UTC {t}"),
    "/daily status channel": lambda s, t: run_text_command(s, ADMIN, f"/daily status {t}"),
    "team name option": lambda s, t: s.team_join(ADMIN, t),
    "deck option": lambda s, t: s.quiz(ADMIN, t),
    "period option": lambda s, t: s.leaderboard(ADMIN, t),
    "daily channel": lambda s, t: s.daily.configure(ADMIN, t, "09:00", "UTC"),
    "daily time": lambda s, t: s.daily.configure(ADMIN, "general", t, "UTC"),
    "daily time zone": lambda s, t: s.daily.configure(ADMIN, "general", "09:00", t),
    "daily deck": lambda s, t: s.daily.configure(ADMIN, "general", "09:00", "UTC", deck=t),
    "daily weekdays": lambda s, t: s.daily.configure(ADMIN, "general", "09:00", "UTC", weekdays=t),
    "daily off channel": lambda s, t: s.daily.off(ADMIN, t),
    "daily now channel": lambda s, t: s.daily.post_now(ADMIN, t),
    "button id": lambda s, t: s.act(ADMIN, t),
    "next button deck": lambda s, t: s.act(ADMIN, f"next:{t}"),
    "form id": lambda s, t: s.submit(ADMIN, t, "an answer"),
    "typed answer": lambda s, t: _answer(s, t),
    "display name": lambda s, t: s.stats(Caller("test", "guild-1", "ann", display_name=t)),
    "user id": lambda s, t: s.decks(Caller("test", "guild-1", t, display_name="Ann")),
    "workspace id": lambda s, t: s.team_list(Caller("test", t, "ann")),
    "channel of the caller": lambda s, t: s.daily.status(Caller("test", "guild-1", "ann", channel_ref=t)),
}


async def _answer(service: StudyService, typed: str) -> Reply:
    return await service.submit(ADMIN, f"answer:{await open_ask(service)}", typed)


ANY_CHARACTER = st.one_of(st.characters(), st.characters(categories=["Cs"]), st.sampled_from("\x00 -,:#ß"))
TYPED = st.one_of(st.text(ANY_CHARACTER, max_size=50), st.text(ANY_CHARACTER, min_size=90, max_size=300))


def test_any_text_in_any_field_gets_a_reply(db_url: str) -> None:
    loop = asyncio.new_event_loop()
    clock = FakeClock(datetime(2026, 3, 4, 12, 0, tzinfo=UTC))
    service = loop.run_until_complete(build_service(db_url, [CONTENT], clock=clock))

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(field=st.sampled_from(sorted(FIELDS)), typed=TYPED)
    def typed_into(field: str, typed: str) -> None:
        reply = loop.run_until_complete(FIELDS[field](service, typed))
        assert isinstance(reply, Message | Form)
        if isinstance(reply, Message):
            # What a reply quotes back can be sent to any platform and printed in any terminal.
            reply.plain_text().encode("utf-8")
            assert "\x00" not in reply.plain_text()

    try:
        typed_into()
    finally:
        loop.run_until_complete(service.store.close())  # type: ignore[attr-defined]
        loop.close()


@pytest.mark.parametrize("kind", BAD)
async def test_a_platform_error_that_cannot_be_stored_still_pauses_the_channel(
    service: StudyService, kind: str
) -> None:
    from bot.schedule.poster import PermanentPostError
    from tests.daily_helpers import RecordingPoster, make_runner

    bad, _described = BAD[kind]
    await text(service, "/daily set general 09:00 UTC")
    poster = RecordingPoster()
    poster.fail["general"] = [PermanentPostError(f"refused: {bad}")]
    runner = make_runner(service, poster)
    await runner.start()
    try:
        reply = await text(service, "/daily now general")
    finally:
        await runner.stop()
    assert reply.is_error and reply.title.startswith("Could not post in #general")
    status = (await text(service, "/daily status general")).plain_text()
    assert "⏸ Paused: refused: a\ufffdb" in status
