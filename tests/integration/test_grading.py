"""Grading: idempotent, owner-only, scheduled by FSRS, points that never punish honesty."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
import sqlalchemy as sa

from bot.core.messages import Message
from bot.core.model.models import Caller
from bot.core.service import StudyService
from bot.store.tables import asks, card_states, members, scores
from tests.conftest import FakeClock, member


async def new_ask(service: StudyService, who=None) -> int:
    msg = await service.quiz(who or member("alice"))
    assert isinstance(msg, Message)
    return int(msg.actions[0].id.split(":")[1])


async def graded_rows(service: StudyService) -> int:
    async with service.store.engine.connect() as conn:  # type: ignore[attr-defined]
        return int(
            (await conn.execute(sa.select(sa.func.count()).where(asks.c.grade.is_not(None)))).scalar_one()
        )


async def all_time_points(service: StudyService) -> int:
    async with service.store.engine.connect() as conn:  # type: ignore[attr-defined]
        value = await conn.execute(sa.select(sa.func.sum(scores.c.points)).where(scores.c.period == "all"))
        return int(value.scalar_one() or 0)


async def test_a_grade_sent_twice_is_one_review(service: StudyService) -> None:
    alice = member("alice")
    ask = await new_ask(service, alice)
    first = await service.act(alice, f"grade:{ask}:good")
    second = await service.act(alice, f"grade:{ask}:good")
    assert isinstance(first, Message) and not first.is_error
    assert isinstance(second, Message) and second.is_error and "already graded" in second.title
    assert await graded_rows(service) == 1
    assert await all_time_points(service) == 10


async def test_concurrent_double_click_counts_once(service: StudyService) -> None:
    alice = member("alice")
    ask = await new_ask(service, alice)
    replies = await asyncio.gather(*(service.act(alice, f"grade:{ask}:easy") for _ in range(5)))
    assert sum(1 for r in replies if isinstance(r, Message) and not r.is_error) == 1
    assert await graded_rows(service) == 1
    assert await all_time_points(service) == 10


async def test_grading_someone_elses_ask_is_refused(service: StudyService) -> None:
    ask = await new_ask(service, member("alice"))
    reply = await service.act(member("mallory"), f"grade:{ask}:easy")
    assert isinstance(reply, Message) and reply.is_error and "someone else" in reply.title
    assert await graded_rows(service) == 0


async def test_unknown_ask_and_bad_grade_say_so(service: StudyService) -> None:
    alice = member("alice")
    missing = await service.act(alice, "grade:999999:good")
    assert isinstance(missing, Message) and missing.is_error and "no longer exists" in missing.title
    ask = await new_ask(service, alice)
    bad = await service.act(alice, f"grade:{ask}:perfect")
    assert isinstance(bad, Message) and bad.is_error and "Again, Hard, Good, Easy" in (bad.sections[0].text)


async def _due_after(service: StudyService, clock: FakeClock, grades: list[str]) -> list[float]:
    """Review the same card with each grade in turn, each time when it is due; return intervals in days."""
    alice = member("alice")
    ask = await new_ask(service, alice)
    card_id = (await service.store.get_ask(ask)).card.id  # type: ignore[union-attr]
    intervals = []
    for grade in grades:
        await service.act(alice, f"grade:{ask}:{grade}")
        state = await service.store.get_card_state((await service.store.get_ask(ask)).member_id, card_id)  # type: ignore[union-attr]
        assert state is not None
        intervals.append((state.due - clock.now()).total_seconds() / 86400)
        clock.set(state.due)
        msg = await service.quiz(alice)
        assert isinstance(msg, Message) and msg.title.startswith("Review"), msg.title
        ask = int(msg.actions[0].id.split(":")[1])
    return intervals


async def test_good_stretches_intervals(service: StudyService, clock: FakeClock) -> None:
    intervals = await _due_after(service, clock, ["good", "good", "good"])
    assert intervals[0] < intervals[1] < intervals[2]


async def test_again_brings_a_card_back_sooner_than_good(service: StudyService, clock: FakeClock) -> None:
    alice = member("alice")
    ask = await new_ask(service, alice)
    reveal = await service.act(alice, f"reveal:{ask}")
    assert isinstance(reveal, Message)
    labels = {a.id.rsplit(":", 1)[1]: a.label for a in reveal.actions}
    # The labels promise the intervals; Again promises the shortest.
    days = {g: int(label.split("· ")[1].rstrip("d")) for g, label in labels.items()}
    assert days["again"] <= days["hard"] < days["good"] < days["easy"]

    await service.act(alice, f"grade:{ask}:good")
    state = await service.store.get_card_state(1, 1)
    assert state is not None
    clock.set(state.due)
    msg = await service.quiz(alice)
    review_ask = int(msg.actions[0].id.split(":")[1])
    reveal = await service.act(alice, f"reveal:{review_ask}")
    good_label = next(a.label for a in reveal.actions if a.id.endswith(":good"))
    await service.act(alice, f"grade:{review_ask}:again")
    after_again = await service.store.get_card_state(1, 1)
    assert after_again is not None
    good_days = int(good_label.split("· ")[1].rstrip("d"))
    assert (after_again.due - clock.now()).days < good_days
    assert after_again.lapses == 1


async def test_the_interval_on_the_button_is_the_interval_given(
    service: StudyService, clock: FakeClock
) -> None:
    alice = member("alice")
    ask = await new_ask(service, alice)
    reveal = await service.act(alice, f"reveal:{ask}")
    easy = next(a for a in reveal.actions if a.id.endswith(":easy"))
    await service.act(alice, easy.id)
    async with service.store.engine.connect() as conn:  # type: ignore[attr-defined]
        due = (await conn.execute(sa.select(card_states.c.due))).scalar_one()
    assert easy.label == f"Easy · {round((due - clock.now()).total_seconds() / 86400)}d"


async def test_honest_again_earns_as_much_as_claimed_easy(service: StudyService) -> None:
    honest, bragger = member("honest"), member("bragger")
    a = await new_ask(service, honest)
    b = await new_ask(service, bragger)
    await service.act(honest, f"grade:{a}:again")
    await service.act(bragger, f"grade:{b}:easy")
    board = await service.leaderboard(honest, "week")
    text = board.sections[0].text
    assert "honest (you) — 10 pts" in text and "bragger — 10 pts" in text


async def test_writing_an_answer_earns_a_bonus_and_shows_key_terms(service: StudyService) -> None:
    alice = member("alice")
    ask = await new_ask(service, alice)  # card 1: deep learning; key terms CNNs and RNNs
    reveal = await service.submit(alice, f"answer:{ask}", "Deep nets like CNNs learn features themselves.")
    terms = next(s for s in reveal.sections if s.heading == "Key terms").plain_text()
    assert "Covered: convolutional neural networks (CNNs)" in terms
    assert "Missed: recurrent neural networks (RNNs)" in terms
    assert next(s for s in reveal.sections if s.heading == "Your answer").plain_text().startswith("Deep nets")
    graded = await service.act(alice, f"grade:{ask}:hard")
    assert "+15 points" in graded.sections[0].text


async def test_typed_answer_over_the_limit_is_refused_and_not_kept(service: StudyService) -> None:
    alice = member("alice")
    ask = await new_ask(service, alice)
    reply = await service.submit(alice, f"answer:{ask}", "x" * 2001)
    assert reply.is_error and "2,001 characters" in reply.title and "2,000" in reply.title
    row = await service.store.get_ask(ask)
    assert row is not None and row.typed_answer is None


async def test_followup_is_offered_after_the_main_card(service: StudyService) -> None:
    alice = member("alice")
    ask = await new_ask(service, alice)
    graded = await service.act(alice, f"grade:{ask}:good")
    followup = next(a for a in graded.actions if a.label == "Follow-up question")
    question = await service.act(alice, followup.id)
    assert isinstance(question, Message)
    assert "primary challenges with training deep learning models" in question.sections[0].text
    follow_ask = int(question.actions[0].id.split(":")[1])
    done = await service.act(alice, f"grade:{follow_ask}:good")
    assert all(a.label != "Follow-up question" for a in done.actions)


async def test_skip_gives_another_card_and_no_points(service: StudyService) -> None:
    alice = member("alice")
    first = await service.quiz(alice)
    ask = int(first.actions[0].id.split(":")[1])
    second = await service.act(alice, f"skip:{ask}")
    assert isinstance(second, Message) and second.sections[0].text != first.sections[0].text
    assert await all_time_points(service) == 0


async def test_asking_again_before_grading_reuses_the_open_question(service: StudyService) -> None:
    alice = member("alice")
    first = await service.quiz(alice)
    again = await service.quiz(alice)
    assert first.actions[0].id == again.actions[0].id


async def member_names(service: StudyService) -> dict[str, str]:
    async with service.store.engine.connect() as conn:  # type: ignore[attr-defined]
        rows = (await conn.execute(sa.select(members.c.user_ref, members.c.display_name))).all()
    return {r.user_ref: r.display_name for r in rows}


async def test_a_brand_new_member_can_grade_and_their_name_is_stored(service: StudyService) -> None:
    # As a daily-post reveal does for a first-time clicker: the member row and the ask are made for them
    # (here with no display name yet), then their first action is a grade.
    store = service.store
    await store.ensure_workspace("test:guild-1", "test")
    row = await store.ensure_member("test:guild-1", "newbie", "")
    ask = await store.create_ask(row.id, 1, "daily", service.clock.now())
    newbie = Caller(platform="test", workspace_ref="guild-1", user_ref="newbie", display_name="Newbie")
    graded = await service.act(newbie, f"grade:{ask}:good")
    assert isinstance(graded, Message) and not graded.is_error, graded.title
    assert "+10 points · 🔥 1-day streak" in graded.sections[0].text
    assert (await member_names(service))["newbie"] == "Newbie"
    assert await all_time_points(service) == 10
    again = await service.act(newbie, f"grade:{ask}:good")
    assert isinstance(again, Message) and again.is_error and "already graded" in again.title


async def test_a_caller_with_no_member_row_is_created_and_refused_someone_elses_ask(
    service: StudyService,
) -> None:
    ask = await new_ask(service, member("alice"))
    reply = await service.act(member("stranger"), f"grade:{ask}:good")
    assert isinstance(reply, Message) and reply.is_error and "someone else" in reply.title
    assert "stranger" in await member_names(service)  # as /quiz or any command would have made them
    assert await graded_rows(service) == 0


async def test_a_changed_display_name_is_stored_when_grading(service: StudyService) -> None:
    alice = member("alice")
    await service.act(alice, f"grade:{await new_ask(service, alice)}:good")
    renamed = Caller(platform="test", workspace_ref="guild-1", user_ref="alice", display_name="Alice L.")
    graded = await service.act(renamed, f"grade:{await new_ask(service, renamed)}:good")
    assert isinstance(graded, Message) and not graded.is_error, graded.title
    assert (await member_names(service))["alice"] == "Alice L."
    board = (await service.leaderboard(renamed, "week")).sections[0].text
    assert board.startswith("1. Alice L. (you) — 20 pts")


class CountingStore:
    """Passes every call through to the store and notes its name."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> object:
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        async def call(*args: object, **kwargs: object) -> object:
            self.calls.append(name)
            return await attr(*args, **kwargs)

        return call


async def test_a_members_grade_is_one_read_and_one_write(service: StudyService) -> None:
    alice = member("alice")
    await service.act(alice, f"grade:{await new_ask(service, alice)}:good")
    ask = await new_ask(service, alice)
    counting = CountingStore(service.store)
    service.store = counting  # type: ignore[assignment]
    graded = await service.act(alice, f"grade:{ask}:good")
    assert isinstance(graded, Message) and not graded.is_error
    assert any(a.label == "Follow-up question" for a in graded.actions)
    assert counting.calls == ["grade_context", "record_grade"]
    counting.calls.clear()
    again = await service.act(alice, f"grade:{ask}:easy")
    assert isinstance(again, Message) and "already graded" in again.title
    assert counting.calls == ["grade_context"]


async def test_a_grade_whose_commit_fails_is_lost_alone_and_the_next_grade_works(
    service: StudyService, db_url: str
) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("the SQLite grade lane")
    lane = service.store._db.lane  # type: ignore[attr-defined]
    # A COMMIT that fails (as on a full disk): a deferred foreign key broken by the grade's own write.
    await lane.run(
        lambda c: c.executescript(
            "CREATE TEMP TABLE parent (id INTEGER PRIMARY KEY);"
            "CREATE TEMP TABLE child (p REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);"
            "CREATE TEMP TRIGGER broken AFTER UPDATE ON main.asks BEGIN INSERT INTO child VALUES (42); END;"
        )
    )
    alice = member("alice")
    with pytest.raises(sqlite3.IntegrityError):
        await service.act(alice, f"grade:{await new_ask(service, alice)}:good")
    await lane.run(lambda c: c.execute("DROP TRIGGER temp.broken"))
    reply = await service.act(alice, f"grade:{await new_ask(service, alice)}:good")
    assert isinstance(reply, Message) and not reply.is_error, reply.title
    assert await graded_rows(service) == 1
