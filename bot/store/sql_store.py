"""The Store port over SQLAlchemy Core; the same statements run on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.core.model.models import (
    ALL_TIME_START,
    AskRow,
    BoardRow,
    CardKind,
    CardState,
    Deck,
    DeckProblem,
    DeckProgress,
    Grade,
    GradeContext,
    GradeOutcome,
    GradeRecord,
    MemberRow,
    MemberStats,
    Period,
    StoredCard,
    TeamRow,
    TeamSize,
)
from bot.core.model.streaks import previous_day
from bot.store.daily_store import DailyQueries
from bot.store.engine import writer
from bot.store.tables import (
    asks,
    card_points,
    card_states,
    cards,
    decks,
    members,
    scores,
    team_member_scores,
    team_scores,
    teams,
    workspaces,
)


def upsert(dialect_name: str, table: sa.Table) -> Any:
    """INSERT for the engine's dialect, so callers can add ON CONFLICT clauses portably."""
    if dialect_name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _columns(row: Any, prefix: str) -> Callable[[str], Any]:
    """Reads a row's columns by name, when they were labelled with `prefix` to sit beside another table's."""
    return lambda name: getattr(row, prefix + name)


def _member(row: Any, prefix: str = "") -> MemberRow:
    """A member from a result row; `prefix` when its columns were labelled (see `_card`)."""

    col = _columns(row, prefix)

    return MemberRow(
        id=col("id"),
        workspace_id=col("workspace_id"),
        user_ref=col("user_ref"),
        display_name=col("display_name"),
        timezone=col("timezone"),
        team_id=col("team_id"),
        streak_current=col("streak_current"),
        streak_best=col("streak_best"),
        last_study_day=col("last_study_day"),
    )


def _card(row: Any, prefix: str = "") -> StoredCard:
    """A card from a result row; `prefix` when its columns were labelled to sit beside another table's."""

    col = _columns(row, prefix)

    return StoredCard(
        id=col("id"),
        deck_id=col("deck_id"),
        key=col("card_key"),
        number=col("number"),
        kind=CardKind(col("kind")),
        question=col("question"),
        answer=col("answer"),
        key_terms=tuple(col("key_terms")),
        parent_id=col("parent_id"),
    )


_CARD_COLUMNS = (
    cards.c.id,
    cards.c.deck_id,
    cards.c.card_key,
    cards.c.number,
    cards.c.kind,
    cards.c.question,
    cards.c.answer,
    cards.c.key_terms,
    cards.c.parent_id,
)


def _ask(row: Any, prefix: str = "", card_prefix: str = "c_") -> AskRow:
    """An ask from a result row holding its columns (labelled with `prefix`) and its card's."""

    col = _columns(row, prefix)

    grade = col("grade")
    return AskRow(
        id=col("id"),
        member_id=col("member_id"),
        workspace_id=col("workspace_id"),
        card=_card(row, prefix=card_prefix),
        source=col("source"),
        created_at=col("created_at"),
        typed_answer=col("typed_answer"),
        grade=Grade(grade) if grade is not None else None,
        graded_at=col("graded_at"),
        skipped=col("skipped_at") is not None,
        parent_ask_id=col("parent_ask_id"),
        daily_post_id=col("daily_post_id"),
    )


def _state(row: Any, prefix: str = "") -> CardState:
    col = _columns(row, prefix)

    return CardState(
        state=col("state"),
        step=col("step"),
        stability=col("stability"),
        difficulty=col("difficulty"),
        due=col("due"),
        last_review=col("last_review"),
        reps=col("reps"),
        lapses=col("lapses"),
    )


# Everything a grade reads, in one SELECT (StudyService.grade): the ask and its card, the workspace's
# timezone, the caller's member row, their state of the card, the card's active follow-up and their state
# of that. Only the ask and its card must exist; the rest is outer-joined and may come back NULL.
_caller = members.alias("caller")
_caller_state = card_states.alias("caller_state")
_followup = cards.alias("followup")
_followup_state = card_states.alias("followup_state")
_GRADE_CONTEXT = (
    sa.select(
        *[c.label(f"a_{c.name}") for c in asks.c],
        *[c.label(f"c_{c.name}") for c in _CARD_COLUMNS],
        workspaces.c.timezone.label("w_timezone"),
        *[c.label(f"m_{c.name}") for c in _caller.c],
        *[c.label(f"s_{c.name}") for c in _caller_state.c],
        *[_followup.c[c.name].label(f"f_{c.name}") for c in _CARD_COLUMNS],
        *[c.label(f"fs_{c.name}") for c in _followup_state.c],
    )
    .select_from(
        asks.join(cards, cards.c.id == asks.c.card_id)
        .join(workspaces, workspaces.c.id == asks.c.workspace_id)
        .outerjoin(
            _caller,
            sa.and_(
                _caller.c.workspace_id == sa.bindparam("workspace_id"),
                _caller.c.user_ref == sa.bindparam("user_ref"),
            ),
        )
        .outerjoin(
            _caller_state,
            sa.and_(_caller_state.c.member_id == _caller.c.id, _caller_state.c.card_id == cards.c.id),
        )
        .outerjoin(_followup, sa.and_(_followup.c.parent_id == cards.c.id, _followup.c.active.is_(True)))
        .outerjoin(
            _followup_state,
            sa.and_(_followup_state.c.member_id == _caller.c.id, _followup_state.c.card_id == _followup.c.id),
        )
    )
    .where(asks.c.id == sa.bindparam("ask_id"))
    .order_by(_followup.c.id)
    .limit(1)
)

# The exactly-once guard of a grade: only the UPDATE that finds the ask ungraded writes anything.
_CLAIM_ASK = (
    sa.update(asks)
    .where(
        asks.c.id == sa.bindparam("b_ask_id"),
        asks.c.member_id == sa.bindparam("b_member_id"),
        asks.c.graded_at.is_(None),
    )
    .values(
        grade=sa.bindparam("b_grade", type_=asks.c.grade.type),
        graded_at=sa.bindparam("b_graded_at", type_=asks.c.graded_at.type),
        points=sa.bindparam("b_points", type_=asks.c.points.type),
        skipped_at=None,
    )
)


def _servable(deck_id: str | None) -> sa.ColumnElement[bool]:
    """Cards that may be asked: active, in an active deck, optionally one deck."""
    condition = sa.and_(
        cards.c.active.is_(True),
        cards.c.deck_id.in_(sa.select(decks.c.id).where(decks.c.active.is_(True))),
    )
    if deck_id is not None:
        condition = sa.and_(condition, cards.c.deck_id == deck_id)
    return condition


class SqlStore(DailyQueries):
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._writer = writer(engine)
        self._dialect = engine.dialect.name
        # Single-row upserts run with executemany: one cacheable statement instead of a multi-row VALUES
        # built (and compiled) again on every grade.
        ins = self._upsert(scores)
        self._add_scores = ins.on_conflict_do_update(
            index_elements=["member_id", "period", "period_start"],
            set_={"points": scores.c.points + ins.excluded.points, "reviews": scores.c.reviews + 1},
        ).returning(scores.c.period, scores.c.period_start, scores.c.points)
        ins = self._upsert(team_member_scores)
        self._add_team_member_scores = ins.on_conflict_do_update(
            index_elements=["team_id", "member_id", "period", "period_start"],
            set_={"points": team_member_scores.c.points + ins.excluded.points},
        ).returning(
            team_member_scores.c.period, team_member_scores.c.period_start, team_member_scores.c.points
        )
        # The card's points of the member's day are taken once: the row that goes in earns them.
        self._take_card_points = (
            self._upsert(card_points)
            .on_conflict_do_nothing(index_elements=["member_id", "card_id", "local_day"])
            .returning(card_points.c.ask_id)
        )
        ins = self._upsert(team_scores)
        self._add_team_scores = ins.on_conflict_do_update(
            index_elements=["team_id", "period", "period_start"],
            set_={
                "points": team_scores.c.points + ins.excluded.points,
                "active": team_scores.c.active + ins.excluded.active,
            },
        )

    async def close(self) -> None:
        await self.engine.dispose()

    def _upsert(self, table: sa.Table) -> Any:
        return upsert(self._dialect, table)

    # -- workspaces and members ---------------------------------------------------------------

    async def ensure_workspace(self, workspace_id: str, platform: str) -> str | None:
        async with self.engine.connect() as conn:
            tz = (
                await conn.execute(sa.select(workspaces.c.timezone).where(workspaces.c.id == workspace_id))
            ).first()
        if tz is not None:
            return str(tz.timezone) if tz.timezone else None
        async with self._writer.begin() as conn:
            await conn.execute(
                self._upsert(workspaces)
                .values(id=workspace_id, platform=platform, created_at=sa.func.now())
                .on_conflict_do_nothing(index_elements=["id"])
            )
        return None

    async def ensure_member(
        self, workspace_id: str, user_ref: str, display_name: str, timezone: str | None = None
    ) -> MemberRow:
        query = sa.select(members).where(
            members.c.workspace_id == workspace_id, members.c.user_ref == user_ref
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if (
            row is not None
            and (not display_name or row.display_name == display_name)
            and (not timezone or row.timezone == timezone)
        ):
            return _member(row)
        async with self._writer.begin() as conn:
            stmt = self._upsert(members).values(
                workspace_id=workspace_id,
                user_ref=user_ref,
                display_name=display_name[:100],
                timezone=timezone or None,
                created_at=sa.func.now(),
            )
            changed = {"display_name": display_name[:100]} if display_name else {}
            if timezone:
                changed["timezone"] = timezone[:64]
            if changed:
                stmt = stmt.on_conflict_do_update(index_elements=["workspace_id", "user_ref"], set_=changed)
            else:
                stmt = stmt.on_conflict_do_nothing(index_elements=["workspace_id", "user_ref"])
            await conn.execute(stmt)
            row = (await conn.execute(query)).one()
        return _member(row)

    async def get_member(self, member_id: int) -> MemberRow | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(members).where(members.c.id == member_id))).first()
        return _member(row) if row is not None else None

    # -- decks ----------------------------------------------------------------------------------

    async def sync_decks(self, deck_list: Sequence[Deck], now: datetime) -> list[DeckProblem]:
        refused: list[DeckProblem] = []
        async with self._writer.begin() as conn:
            await conn.execute(sa.update(decks).values(active=False))
            for deck in deck_list:
                # Each deck in its own savepoint: one the database refuses stays out, the others load.
                try:
                    async with conn.begin_nested():
                        await self._sync_deck(conn, deck, now)
                except Exception as exc:
                    cause = getattr(exc, "orig", None) or exc  # the driver's error, not SQLAlchemy's wrapper
                    reason = (str(cause).strip().splitlines() or [""])[0][:200]
                    message = f"the database refused this deck ({type(cause).__name__}: {reason})"
                    refused.append(DeckProblem(deck.source or deck.id, 1, message))
        return refused

    async def _sync_deck(self, conn: AsyncConnection, deck: Deck, now: datetime) -> None:
        values = {
            "title": deck.title,
            "credit": deck.credit,
            "source": deck.source,
            "active": True,
            "updated_at": now,
        }
        await conn.execute(
            self._upsert(decks)
            .values(id=deck.id, **values)
            .on_conflict_do_update(index_elements=["id"], set_=values)
        )
        await conn.execute(sa.update(cards).where(cards.c.deck_id == deck.id).values(active=False))
        # Main cards first, so follow-ups can point at their parent's id.
        ordered = sorted(deck.cards, key=lambda c: c.kind is CardKind.FOLLOWUP)
        ids: dict[str, int] = {}
        for position, card in enumerate(ordered):
            card_values = {
                "number": card.number,
                "kind": card.kind.value,
                "parent_id": ids.get(card.parent_key) if card.parent_key else None,
                "question": card.question,
                "answer": card.answer,
                "key_terms": list(card.key_terms),
                "position": position,
                "active": True,
            }
            await conn.execute(
                self._upsert(cards)
                .values(deck_id=deck.id, card_key=card.key, **card_values)
                .on_conflict_do_update(index_elements=["deck_id", "card_key"], set_=card_values)
            )
            ids[card.key] = (
                await conn.execute(
                    sa.select(cards.c.id).where(cards.c.deck_id == deck.id, cards.c.card_key == card.key)
                )
            ).scalar_one()

    async def deck_ids(self) -> list[str]:
        async with self.engine.connect() as conn:
            result = await conn.execute(
                sa.select(decks.c.id).where(decks.c.active.is_(True)).order_by(decks.c.id)
            )
        return list(result.scalars())

    # -- picking --------------------------------------------------------------------------------

    def _recently_skipped(self, member_id: int, since: datetime) -> sa.Select[Any]:
        return sa.select(asks.c.card_id).where(
            asks.c.member_id == member_id, asks.c.skipped_at.is_not(None), asks.c.skipped_at >= since
        )

    async def pick_due_card(
        self, member_id: int, now: datetime, deck_id: str | None, skipped_since: datetime
    ) -> StoredCard | None:
        query = (
            sa.select(*_CARD_COLUMNS)
            .join(card_states, card_states.c.card_id == cards.c.id)
            .where(
                card_states.c.member_id == member_id,
                card_states.c.due <= now,
                _servable(deck_id),
                cards.c.id.not_in(self._recently_skipped(member_id, skipped_since)),
            )
            .order_by(card_states.c.due, cards.c.id)
            .limit(1)
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return _card(row) if row is not None else None

    async def pick_new_card(
        self, member_id: int, deck_id: str | None, skipped_since: datetime
    ) -> StoredCard | None:
        seen = sa.select(card_states.c.card_id).where(card_states.c.member_id == member_id)
        query = (
            sa.select(*_CARD_COLUMNS)
            .where(
                # A follow-up is new once its main card has been graded (mains sort first by position).
                sa.or_(cards.c.kind == CardKind.MAIN.value, cards.c.parent_id.in_(seen)),
                _servable(deck_id),
                cards.c.id.not_in(seen),
                cards.c.id.not_in(self._recently_skipped(member_id, skipped_since)),
            )
            .order_by(cards.c.deck_id, cards.c.position)
            .limit(1)
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return _card(row) if row is not None else None

    async def next_due(self, member_id: int, deck_id: str | None) -> datetime | None:
        query = (
            sa.select(card_states.c.due)
            .join(cards, cards.c.id == card_states.c.card_id)
            .where(card_states.c.member_id == member_id, _servable(deck_id))
            .order_by(card_states.c.due)
            .limit(1)
        )
        async with self.engine.connect() as conn:
            due: datetime | None = (await conn.execute(query)).scalar_one_or_none()
        return due

    async def followup_of(self, card_id: int) -> StoredCard | None:
        query = sa.select(*_CARD_COLUMNS).where(cards.c.parent_id == card_id, cards.c.active.is_(True))
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return _card(row) if row is not None else None

    # -- asks and grading -----------------------------------------------------------------------

    async def create_ask(
        self,
        member_id: int,
        card_id: int,
        source: str,
        now: datetime,
        parent_ask_id: int | None = None,
        daily_post_id: int | None = None,
    ) -> int:
        async with self._writer.begin() as conn:
            workspace_id = (
                await conn.execute(sa.select(members.c.workspace_id).where(members.c.id == member_id))
            ).scalar_one()
            result = await conn.execute(
                sa.insert(asks)
                .values(
                    member_id=member_id,
                    workspace_id=workspace_id,
                    card_id=card_id,
                    source=source,
                    parent_ask_id=parent_ask_id,
                    daily_post_id=daily_post_id,
                    created_at=now,
                )
                .returning(asks.c.id)
            )
            return int(result.scalar_one())

    async def find_open_ask(self, member_id: int, card_id: int) -> int | None:
        query = (
            sa.select(asks.c.id)
            .where(
                asks.c.member_id == member_id,
                asks.c.card_id == card_id,
                asks.c.graded_at.is_(None),
                asks.c.skipped_at.is_(None),
            )
            .order_by(asks.c.id.desc())
            .limit(1)
        )
        async with self.engine.connect() as conn:
            value = (await conn.execute(query)).scalar_one_or_none()
        return int(value) if value is not None else None

    async def get_ask(self, ask_id: int) -> AskRow | None:
        query = (
            sa.select(asks, *[c.label(f"c_{c.name}") for c in _CARD_COLUMNS])
            .join(cards, cards.c.id == asks.c.card_id)
            .where(asks.c.id == ask_id)
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return _ask(row) if row is not None else None

    async def grade_context(
        self, ask_id: int, workspace_id: str, user_ref: str, now: datetime
    ) -> GradeContext | None:
        del now  # everything is read as stored; the core compares due dates itself
        params = {"ask_id": ask_id, "workspace_id": workspace_id, "user_ref": user_ref}
        async with self.engine.connect() as conn:
            row = (await conn.execute(_GRADE_CONTEXT, params)).first()
        if row is None:
            return None
        return GradeContext(
            ask=_ask(row, prefix="a_"),
            workspace_tz=row.w_timezone,
            member=_member(row, prefix="m_") if row.m_id is not None else None,
            state=_state(row, prefix="s_") if row.s_member_id is not None else None,
            followup=_card(row, prefix="f_") if row.f_id is not None else None,
            followup_state=_state(row, prefix="fs_") if row.fs_member_id is not None else None,
        )

    async def set_typed_answer(self, ask_id: int, text: str, now: datetime) -> bool:
        async with self._writer.begin() as conn:
            result = await conn.execute(
                sa.update(asks)
                .where(asks.c.id == ask_id, asks.c.graded_at.is_(None))
                .values(typed_answer=text, answered_at=now, skipped_at=None)
            )
        return result.rowcount == 1

    async def skip_ask(self, ask_id: int, now: datetime) -> bool:
        async with self._writer.begin() as conn:
            result = await conn.execute(
                sa.update(asks)
                .where(asks.c.id == ask_id, asks.c.graded_at.is_(None), asks.c.skipped_at.is_(None))
                .values(skipped_at=now)
            )
        return result.rowcount == 1

    async def get_card_state(self, member_id: int, card_id: int) -> CardState | None:
        query = sa.select(card_states).where(
            card_states.c.member_id == member_id, card_states.c.card_id == card_id
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return _state(row) if row is not None else None

    async def record_grade(self, record: GradeRecord) -> GradeOutcome | None:
        async with self._writer.begin() as conn:
            claimed = await conn.execute(
                _CLAIM_ASK,
                {
                    "b_ask_id": record.ask_id,
                    "b_member_id": record.member_id,
                    "b_grade": int(record.grade),
                    "b_graded_at": record.graded_at,
                    "b_points": record.points,
                },
            )
            if claimed.rowcount != 1:
                return None
            if record.points > 0 and not await self._first_points_today(conn, record):
                record = dataclasses.replace(record, points=0)
            state = record.new_state
            state_values = {
                "state": state.state,
                "step": state.step,
                "stability": state.stability,
                "difficulty": state.difficulty,
                "due": state.due,
                "last_review": state.last_review,
                "reps": state.reps,
                "lapses": state.lapses,
            }
            await conn.execute(
                self._upsert(card_states)
                .values(member_id=record.member_id, card_id=record.card_id, **state_values)
                .on_conflict_do_update(index_elements=["member_id", "card_id"], set_=state_values)
            )
            await self._add_points(conn, record)
            member = await self._extend_streak(conn, record.member_id, record.local_day)
            if member.team_id is not None and record.points > 0:
                await self._add_team_points(conn, member.team_id, record)
            return GradeOutcome(streak=int(member.streak_current), points=record.points)

    async def _first_points_today(self, conn: AsyncConnection, record: GradeRecord) -> bool:
        """Whether this grade is the first of the card to earn points on the member's local day; if not,
        its ask keeps 0 points. Concurrent grades of one card: the unique row lets exactly one through."""
        taken = await conn.execute(
            self._take_card_points,
            {
                "member_id": record.member_id,
                "card_id": record.card_id,
                "local_day": record.local_day,
                "ask_id": record.ask_id,
            },
        )
        if taken.first() is not None:
            return True
        await conn.execute(sa.update(asks).where(asks.c.id == record.ask_id).values(points=0))
        return False

    async def _add_points(self, conn: AsyncConnection, record: GradeRecord) -> None:
        """Add the grade to the member's week, month and all-time scores."""
        rows = [
            {
                "member_id": record.member_id,
                "period": period.value,
                "period_start": start,
                "workspace_id": record.workspace_id,
                "points": record.points,
                "reviews": 1,
            }
            for period, start in (
                (Period.WEEK, record.week_start),
                (Period.MONTH, record.month_start),
                (Period.ALL, ALL_TIME_START),
            )
        ]
        await conn.execute(self._add_scores, rows)

    async def _add_team_points(self, conn: AsyncConnection, team_id: int, record: GradeRecord) -> None:
        """Add the grade to the team it was earned in: to the member's points for that team, and to the
        team's totals. The member becomes active for the team in a period with their first points there,
        and stays so after leaving, as their points stay: points per active member is then what each
        member who studied for the team brought it."""
        periods = (
            (Period.WEEK, record.week_start),
            (Period.MONTH, record.month_start),
            (Period.ALL, ALL_TIME_START),
        )
        mine = [
            {
                "team_id": team_id,
                "member_id": record.member_id,
                "period": period.value,
                "period_start": start,
                "points": record.points,
            }
            for period, start in periods
        ]
        totals = (await conn.execute(self._add_team_member_scores, mine)).all()
        rows = [
            {
                "team_id": team_id,
                "period": row.period,
                "period_start": row.period_start,
                "workspace_id": record.workspace_id,
                "points": record.points,
                "active": 1 if row.points > 0 and row.points - record.points <= 0 else 0,
            }
            # Always the same order of rows, so concurrent writers of one team lock them in one order.
            for row in sorted(totals, key=lambda r: (r.period, r.period_start))
        ]
        await conn.execute(self._add_team_scores, rows)

    async def _extend_streak(self, conn: AsyncConnection, member_id: int, day: date) -> Any:
        """Returns the member's streak_current and team_id after the update. Locks the member row, so a
        team join or leave of the member runs wholly before or after the grade."""
        # Done in one UPDATE so concurrent grades of one member cannot lose a day.
        # The rule (same day: unchanged; the day after: +1; later: restart at 1) lives in
        # bot/core/model/streaks.py as well, for display; keep the two in step.
        last = members.c.last_study_day
        new_current = sa.case(
            (last == day, members.c.streak_current),
            (last == previous_day(day), members.c.streak_current + 1),
            (last > day, members.c.streak_current),
            else_=1,
        )
        result = await conn.execute(
            sa.update(members)
            .where(members.c.id == member_id)
            .values(
                streak_current=new_current,
                streak_best=sa.case(
                    (new_current > members.c.streak_best, new_current), else_=members.c.streak_best
                ),
                last_study_day=sa.case((last > day, last), else_=day),
            )
            .returning(members.c.streak_current, members.c.team_id)
        )
        return result.one()

    # -- stats and boards -----------------------------------------------------------------------

    async def member_stats(self, member_id: int, now: datetime, week_start: date) -> MemberStats:
        async with self.engine.connect() as conn:
            learned, due = (
                await conn.execute(
                    sa.select(
                        sa.func.count(),
                        sa.func.coalesce(sa.func.sum(sa.case((card_states.c.due <= now, 1), else_=0)), 0),
                    ).where(card_states.c.member_id == member_id)
                )
            ).one()
            grade_rows = await conn.execute(
                sa.select(asks.c.grade, sa.func.count())
                .where(asks.c.member_id == member_id, asks.c.grade.is_not(None))
                .group_by(asks.c.grade)
            )
            grade_counts = {Grade(g): int(n) for g, n in grade_rows}
            point_rows = await conn.execute(
                sa.select(scores.c.period, scores.c.points).where(
                    scores.c.member_id == member_id,
                    sa.or_(
                        sa.and_(scores.c.period == Period.WEEK.value, scores.c.period_start == week_start),
                        sa.and_(scores.c.period == Period.ALL.value, scores.c.period_start == ALL_TIME_START),
                    ),
                )
            )
            points = {p: int(v) for p, v in point_rows}
        return MemberStats(
            cards_learned=int(learned),
            cards_due=int(due),
            grade_counts=grade_counts,
            points_week=points.get(Period.WEEK.value, 0),
            points_all=points.get(Period.ALL.value, 0),
        )

    def _board_filter(self, workspace_id: str, period: Period, period_start: date) -> sa.ColumnElement[bool]:
        return sa.and_(
            scores.c.workspace_id == workspace_id,
            scores.c.period == period.value,
            scores.c.period_start == period_start,
        )

    async def leaderboard(
        self, workspace_id: str, period: Period, period_start: date, limit: int
    ) -> list[BoardRow]:
        query = (
            sa.select(
                scores.c.member_id,
                scores.c.points,
                members.c.display_name,
                members.c.user_ref,
                members.c.streak_current,
                members.c.last_study_day,
            )
            .join(members, members.c.id == scores.c.member_id)
            .where(self._board_filter(workspace_id, period, period_start), scores.c.points > 0)
            .order_by(scores.c.points.desc(), scores.c.member_id)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        board: list[BoardRow] = []
        for index, row in enumerate(rows):
            # Competition ranking: equal points share a rank.
            rank = board[-1].rank if board and board[-1].points == row.points else index + 1
            board.append(
                BoardRow(
                    rank=rank,
                    member_id=row.member_id,
                    display_name=row.display_name or row.user_ref,
                    points=row.points,
                    streak_current=row.streak_current,
                    last_study_day=row.last_study_day,
                )
            )
        return board

    async def member_rank(
        self, workspace_id: str, member_id: int, period: Period, period_start: date
    ) -> BoardRow | None:
        mine = (
            sa.select(
                scores.c.points,
                members.c.display_name,
                members.c.user_ref,
                members.c.streak_current,
                members.c.last_study_day,
            )
            .join(members, members.c.id == scores.c.member_id)
            .where(self._board_filter(workspace_id, period, period_start), scores.c.member_id == member_id)
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(mine)).first()
            if row is None or row.points <= 0:
                return None
            ahead = (
                await conn.execute(
                    sa.select(sa.func.count()).where(
                        self._board_filter(workspace_id, period, period_start), scores.c.points > row.points
                    )
                )
            ).scalar_one()
        return BoardRow(
            rank=int(ahead) + 1,
            member_id=member_id,
            display_name=row.display_name or row.user_ref,
            points=row.points,
            streak_current=row.streak_current,
            last_study_day=row.last_study_day,
        )

    async def team_standings(self, workspace_id: str, period: Period, period_start: date) -> list[TeamRow]:
        # Teams with at least one member, each with its running totals for the period (none yet: zero).
        has_members = sa.exists().where(members.c.team_id == teams.c.id)
        query = (
            sa.select(
                teams.c.id,
                teams.c.name,
                sa.func.coalesce(team_scores.c.points, 0).label("points"),
                sa.func.coalesce(team_scores.c.active, 0).label("active"),
            )
            .select_from(
                teams.outerjoin(
                    team_scores,
                    sa.and_(
                        team_scores.c.team_id == teams.c.id,
                        team_scores.c.period == period.value,
                        team_scores.c.period_start == period_start,
                    ),
                )
            )
            .where(teams.c.workspace_id == workspace_id, has_members)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        unranked = [TeamRow(0, r.id, r.name, int(r.points), int(r.active)) for r in rows]
        unranked.sort(key=lambda t: (-t.per_member, -t.points, t.name.lower()))
        ranked: list[TeamRow] = []
        for index, team in enumerate(unranked):
            same = ranked and ranked[-1].per_member == team.per_member
            rank = ranked[-1].rank if same else index + 1
            ranked.append(TeamRow(rank, team.team_id, team.name, team.points, team.active_members))
        return ranked

    # -- teams ----------------------------------------------------------------------------------

    async def join_team(self, member_id: int, workspace_id: str, name: str, now: datetime) -> str:
        key = name.casefold()
        async with self._writer.begin() as conn:
            await conn.execute(
                self._upsert(teams)
                .values(workspace_id=workspace_id, name=name, name_key=key, created_at=now)
                .on_conflict_do_nothing(index_elements=["workspace_id", "name_key"])
            )
            team = (
                await conn.execute(
                    sa.select(teams.c.id, teams.c.name).where(
                        teams.c.workspace_id == workspace_id, teams.c.name_key == key
                    )
                )
            ).one()
            old_team = await self._lock_member_team(conn, member_id)
            if old_team != team.id:
                # Points stay with the team they were earned in; from now on they are earned for this one.
                await conn.execute(
                    sa.update(members).where(members.c.id == member_id).values(team_id=team.id)
                )
        return str(team.name)

    async def leave_team(self, member_id: int) -> str | None:
        async with self._writer.begin() as conn:
            old_team = await self._lock_member_team(conn, member_id)
            if old_team is None:
                return None
            name = (await conn.execute(sa.select(teams.c.name).where(teams.c.id == old_team))).scalar_one()
            await conn.execute(sa.update(members).where(members.c.id == member_id).values(team_id=None))
        return str(name)

    async def _lock_member_team(self, conn: AsyncConnection, member_id: int) -> int | None:
        """The member's team, with their row locked (PostgreSQL; SQLite writers hold the database lock)
        until the transaction ends: a grade of theirs counts wholly for the team before or after."""
        team_id: int | None = (
            await conn.execute(
                sa.select(members.c.team_id).where(members.c.id == member_id).with_for_update()
            )
        ).scalar_one_or_none()
        return team_id

    async def team_name(self, team_id: int) -> str | None:
        async with self.engine.connect() as conn:
            value = (
                await conn.execute(sa.select(teams.c.name).where(teams.c.id == team_id))
            ).scalar_one_or_none()
        return str(value) if value is not None else None

    async def team_sizes(self, workspace_id: str) -> list[TeamSize]:
        query = (
            sa.select(teams.c.id, teams.c.name, sa.func.count(members.c.id).label("size"))
            .join(members, members.c.team_id == teams.c.id)
            .where(teams.c.workspace_id == workspace_id)
            .group_by(teams.c.id, teams.c.name)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        sizes = [TeamSize(r.id, r.name, int(r.size)) for r in rows]
        return sorted(sizes, key=lambda t: (-t.members, t.name.casefold()))

    async def deck_progress(self, member_id: int, now: datetime) -> list[DeckProgress]:
        per_deck = (
            sa.select(
                decks.c.id,
                decks.c.title,
                sa.func.sum(sa.case((cards.c.kind == CardKind.MAIN.value, 1), else_=0)).label("mains"),
                sa.func.sum(sa.case((cards.c.kind == CardKind.FOLLOWUP.value, 1), else_=0)).label(
                    "followups"
                ),
            )
            .join(cards, cards.c.deck_id == decks.c.id)
            .where(decks.c.active.is_(True), cards.c.active.is_(True))
            .group_by(decks.c.id, decks.c.title)
            .order_by(decks.c.id)
        )
        mine = (
            sa.select(
                cards.c.deck_id,
                sa.func.count().label("learned"),
                sa.func.sum(sa.case((card_states.c.due <= now, 1), else_=0)).label("due"),
            )
            .join(cards, cards.c.id == card_states.c.card_id)
            .where(card_states.c.member_id == member_id, cards.c.active.is_(True))
            .group_by(cards.c.deck_id)
        )
        async with self.engine.connect() as conn:
            deck_rows = (await conn.execute(per_deck)).all()
            progress = {r.deck_id: (int(r.learned), int(r.due or 0)) for r in await conn.execute(mine)}
        return [
            DeckProgress(
                deck_id=r.id,
                title=r.title,
                main_cards=int(r.mains or 0),
                followup_cards=int(r.followups or 0),
                learned=progress.get(r.id, (0, 0))[0],
                due=progress.get(r.id, (0, 0))[1],
            )
            for r in deck_rows
        ]
