"""A workspace's own decks through the core, as an admin and a member see them: import in every format,
re-import keeping progress, export round trip, suggestions through review, removal, limits. Each test runs
on the memory store and on every database (SQLite, and PostgreSQL when STUDYBOT_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import genanki
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.bootstrap import build_service
from bot.core.commands import COMMANDS, run_text_command
from bot.core.decks.limits import CARDS_MAX, IMPORT_FILE_MAX
from bot.core.messages import Form, Message, Reply, Upload
from bot.core.model.models import Caller
from bot.core.service import StudyService
from tests.db import database_urls, fresh_postgres_database
from tests.fakes.memory_store import MemoryStore
from tests.support.callers import CONTENT, member
from tests.support.clock import START, FakeClock

ADMIN = member("ada", admin=True)
ANN = member("ann")
ELSEWHERE_ADMIN = member("eve", workspace="guild-2", admin=True)
ELSEWHERE = member("bob", workspace="guild-2")

MARKDOWN = """# Team notes
---

### **1. What does our deploy script do?**

**Theory:**
It builds the **image** and rolls it out.

**Follow-up Question:**
*Where are its logs?*
**Answer:**
In the **deploy** channel.

---

### **2. Who owns the on-call rota?**

**Theory:**
The **platform team**.
"""

# Every CSV edge case: a BOM, semicolons (sniffed), quoted fields with the delimiter, quotes and new lines.
CSV = (
    "\ufeffquestion;answer;follow_up_question;follow_up_answer;id\r\n"
    '"What is 1; 2?";"A list; of two";;;\r\n'
    '"He said ""hi""?";"Quotes ""kept""";Why?;"Because\r\nit is";greet\r\n'
    '"Two\r\nlines?";"Yes, two";;;\r\n'
).encode("utf-8")

QUIZLET = b"cell\tthe unit of life\nmitochondria\tthe powerhouse, of the cell\n"


@pytest.fixture(params=["memory", *database_urls()])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgres":
        with fresh_postgres_database() as url:
            yield url
    elif request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'decks.db'}"
    else:
        yield "memory"


@pytest.fixture
async def service(store_url: str) -> AsyncIterator[StudyService]:
    clock = FakeClock(START)
    if store_url == "memory":
        built = StudyService(MemoryStore(), clock, content=(CONTENT,))
        await built.library.reload()
        yield built
        return
    built = await build_service(store_url, [CONTENT], clock=clock)
    yield built
    await built.store.close()  # type: ignore[attr-defined]


def text_of(reply: Reply) -> str:
    assert isinstance(reply, Message), reply
    return reply.title + "\n" + reply.plain_text() + "\n" + (reply.footer or "")


async def imported(service: StudyService, name: str, data: bytes, who: Caller = ADMIN) -> Message:
    return await service.deck_import(who, Upload(name, data))


async def questions(service: StudyService, who: Caller, deck: str, n: int = 10) -> list[str]:
    """The questions /quiz DECK gives, each skipped so the next comes (as many as the deck has)."""
    seen = []
    for _ in range(n):
        reply = await service.quiz(who, deck)
        if not reply.actions or reply.is_error:
            break
        seen.append(reply.sections[0].text)
        await service.act(who, next(a.id for a in reply.actions if a.label == "Skip"))
    return seen


async def test_markdown_import_is_studied_here_only(service: StudyService) -> None:
    reply = await imported(service, "team-notes.md", MARKDOWN.encode())
    assert not reply.is_error, text_of(reply)
    assert "Imported Team notes: 2 cards, 1 follow-up." in text_of(reply)
    quiz = await service.quiz(ANN, "team-notes")
    assert quiz.title == "New card · team-notes #1"  # the plain name, never the internal id
    assert "deploy script" in quiz.sections[0].text
    listing = text_of(await service.decks(ANN))
    assert "Team notes" in listing and "added by ada · /quiz team-notes" in listing
    assert "comes with studybot · /quiz ml-interview-questions" in listing
    assert "w." not in listing
    # Another workspace sees none of it, not even by its internal id.
    assert "Team notes" not in text_of(await service.decks(ELSEWHERE))
    assert "team-notes" in await service.deck_names(ANN)  # what autocompletion offers
    assert "team-notes" not in await service.deck_names(ELSEWHERE)
    refused = await service.quiz(ELSEWHERE, "team-notes")
    assert refused.is_error and "no deck called" in refused.title
    internal = next(
        d.id for d in await service.store.deck_infos(ADMIN.workspace_id) if d.name == "team-notes"
    )
    assert (await service.quiz(ELSEWHERE, internal)).is_error
    assert (await service.deck_export(ELSEWHERE, "team-notes")).is_error
    assert (await service.deck_add(ELSEWHERE, "team-notes")).is_error  # type: ignore[union-attr]
    for _ in range(12):  # all of the other workspace's questions are bundled ones
        q = await service.quiz(ELSEWHERE)
        assert "team-notes" not in q.title
        skip = next(a for a in q.actions if a.label == "Skip")
        await service.act(ELSEWHERE, skip.id)


async def test_daily_set_accepts_a_workspace_deck(service: StudyService) -> None:
    await imported(service, "team-notes.md", MARKDOWN.encode())
    reply = await service.daily.configure(ADMIN, "general", "09:00", "UTC", "team-notes")
    assert not reply.is_error, text_of(reply)
    assert "deck team-notes" in text_of(reply) and "w." not in text_of(reply)
    other = await service.daily.configure(ELSEWHERE_ADMIN, "general", "09:00", "UTC", "team-notes")
    assert other.is_error


async def test_csv_with_every_edge_case(service: StudyService) -> None:
    reply = await imported(service, "edge.csv", CSV)
    assert not reply.is_error, text_of(reply)
    assert "3 cards, 1 follow-up" in text_of(reply)
    deck = await service.store.deck_cards(
        next(d.id for d in await service.store.deck_infos("test:guild-1") if d.name == "edge")
    )
    assert deck is not None
    by_question = {c.question: c.answer for c in deck.cards}
    assert by_question["What is 1; 2?"] == "A list; of two"
    assert by_question['He said "hi"?'] == 'Quotes "kept"'
    assert by_question["Why?"] == "Because\nit is"
    assert by_question["Two\n\nlines?"] == "Yes, two"  # a question's second line is its own paragraph
    assert any(c.key == "greet" for c in deck.cards)


async def test_quizlet_export(service: StudyService) -> None:
    reply = await imported(service, "biology.txt", QUIZLET)
    assert "2 cards, 0 follow-ups" in text_of(reply)
    quiz = await service.quiz(ANN, "biology")
    assert quiz.sections[0].text.startswith("**cell**") or "cell" in quiz.sections[0].text


async def test_anki_package(service: StudyService, tmp_path: Path) -> None:
    pytest.importorskip("anki")
    deck = genanki.Deck(2059400110, "Spanish")
    deck.add_note(genanki.Note(model=genanki.BASIC_MODEL, fields=["<b>hola</b>", "hello"], guid="g1"))
    deck.add_note(
        genanki.Note(model=genanki.BASIC_AND_REVERSED_CARD_MODEL, fields=["gato", "cat"], guid="g2")
    )
    deck.add_note(genanki.Note(model=genanki.CLOZE_MODEL, fields=["{{c1::Madrid}} is the capital", ""]))
    path = tmp_path / "spanish.apkg"
    genanki.Package(deck).write_to_file(str(path), timestamp=1_700_000_000)
    text = text_of(await imported(service, "spanish.apkg", path.read_bytes()))
    assert "Imported Spanish: 2 cards, 0 follow-ups." in text
    assert "Skipped 1 note: cloze notes cannot be asked as question and answer." in text
    quiz = await service.quiz(ANN, "spanish")
    assert quiz.title == "New card · spanish #1" and "hola" in quiz.sections[0].text


async def grade_next(service: StudyService, who: Caller, deck: str) -> str:
    """Ask the member's next card of the deck and grade it Good; the question's heading."""
    quiz = await service.quiz(who, deck)
    reveal = await service.act(who, next(a.id for a in quiz.actions if a.label == "Reveal answer"))
    assert isinstance(reveal, Message)
    graded = await service.act(who, next(a.id for a in reveal.actions if a.label.startswith("Good")))
    assert isinstance(graded, Message) and not graded.is_error, text_of(graded)
    return quiz.title


async def test_reimport_keeps_progress_and_retires_removed_cards(service: StudyService) -> None:
    await imported(service, "team-notes.md", MARKDOWN.encode())
    assert await grade_next(service, ANN, "team-notes") == "New card · team-notes #1"
    assert await grade_next(service, ANN, "team-notes") == "New card · team-notes #2"
    assert "you've learned 2, 0 due" in text_of(await service.decks(ANN))
    # Question 2 leaves, question 1 is reworded (its number is its identity).
    edited = MARKDOWN.replace("What does our deploy script do?", "What does deploy.sh do?")
    edited = edited[: edited.index("### **2.")].rstrip("-\n") + "\n"
    reply = text_of(await imported(service, "team-notes.md", edited.encode()))
    assert "updated" in reply and "1 kept their progress, 0 new, 1 no longer in the file, retired" in reply
    after = text_of(await service.decks(ANN))
    assert "1 question + 1 follow-up" in after and "you've learned 1" in after
    quiz = await service.quiz(ANN, "team-notes")  # card 1's follow-up: its main card was graded
    assert quiz.title == "New card · team-notes #1 (follow-up)"
    # Question 2 comes back with its progress: learned, and not due (it was graded Good).
    back = text_of(await imported(service, "team-notes.md", MARKDOWN.encode()))
    assert "1 came back with their progress" in back
    assert "2 questions + 1 follow-up" in text_of(await service.decks(ANN))
    assert "you've learned 2, 0 due" in text_of(await service.decks(ANN))


async def test_export_then_import_gives_identical_cards(service: StudyService) -> None:
    await imported(service, "edge.csv", CSV)
    exported = await service.deck_export(ANN, "edge")
    assert not exported.is_error and len(exported.files) == 1
    file = exported.files[0]
    assert file.filename == "edge.md" and file.content_type.startswith("text/markdown")
    reply = await imported(service, "elsewhere.md", file.data, ELSEWHERE_ADMIN)
    assert not reply.is_error, text_of(reply)
    infos = {d.name: d.id for d in await service.store.deck_infos(None)}
    assert infos == {n: i for n, i in infos.items()}  # bundled only
    mine = await service.store.deck_cards(
        next(d.id for d in await service.store.deck_infos("test:guild-1") if d.name == "edge")
    )
    theirs = await service.store.deck_cards(
        next(d.id for d in await service.store.deck_infos("test:guild-2") if d.name == "elsewhere")
    )
    assert mine is not None and theirs is not None
    assert [(c.key, c.kind, c.question, c.answer, c.parent_key) for c in mine.cards] == [
        (c.key, c.kind, c.question, c.answer, c.parent_key) for c in theirs.cards
    ]
    # Re-importing the export as the same deck changes nothing.
    again = text_of(await imported(service, "edge.md", file.data))
    assert "3 kept their progress, 0 new" in again


async def test_a_member_suggestion_goes_through_review_into_quiz(service: StudyService) -> None:
    await imported(service, "team-notes.md", MARKDOWN.encode())
    form = await service.card_from_message(ANN, "The **staging** cluster.")  # "Make a study card"
    assert isinstance(form, Form) and form.fields[0].name == "deck"
    assert next(f for f in form.fields if f.name == "answer").value == "The **staging** cluster."
    thanks = await service.submit(
        ANN,
        form.id,
        {
            "deck": "team-notes",
            "question": "Where do we test releases?",
            "answer": "The **staging** cluster.",
        },
    )
    assert "waits for an admin's review" in thanks.title
    assert (await service.deck_review(ANN)).is_error  # members cannot review
    review = await service.deck_review(ADMIN)
    assert "From ann, for “team-notes”" in text_of(review)
    approve = next(a for a in review.actions if a.label == "Approve")
    approval = await service.act(ADMIN, approve.id)
    assert isinstance(approval, Form) and approval.fields[0].value == "team-notes"
    done = await service.submit(ADMIN, approval.id, {"deck": "team-notes"})
    assert "Added the card from ann to “team-notes”" in done.title and "No suggested cards" in done.title
    # The member hears about it with their next command, once.
    told = await run_text_command(service, ANN, "/stats")
    assert "was approved by ada" in text_of(told)
    assert "was approved" not in text_of(await run_text_command(service, ANN, "/stats"))
    seen = await questions(service, ANN, "team-notes")
    assert any("Where do we test releases?" in q for q in seen)
    # Approving twice adds nothing more.
    again = await service.submit(ADMIN, approval.id, {"deck": "team-notes"})
    assert again.is_error and "approved already" in again.title


async def test_edit_reject_and_an_admins_card(service: StudyService) -> None:
    await imported(service, "team-notes.md", MARKDOWN.encode())
    form = await service.deck_add(ANN, "team-notes")
    assert isinstance(form, Form)
    await service.submit(ANN, form.id, {"question": "Typo questoin?", "answer": "x"})
    await service.submit(ANN, form.id, {"question": "Spam?", "answer": "spam"})
    review = await service.deck_review(ADMIN)
    edit = await service.act(ADMIN, next(a.id for a in review.actions if a.label == "Edit"))
    assert isinstance(edit, Form) and [f.name for f in edit.fields][:3] == ["deck", "question", "answer"]
    done = await service.submit(
        ADMIN, edit.id, {"deck": "team-notes", "question": "Typo question?", "answer": "fixed"}
    )
    assert not done.is_error, done.title
    rejected = await service.act(ADMIN, next(a.id for a in done.actions if a.label == "Reject"))
    assert isinstance(rejected, Message) and "Rejected the card from ann" in rejected.title
    news = text_of(await run_text_command(service, ANN, "/decks"))
    # The member is told of their card as they wrote it.
    assert "“Typo questoin?” was approved" in news and "“Spam?” was not added" in news
    # An admin's card goes straight in; a new name starts a deck.
    direct = await service.deck_add(ADMIN, "glossary")
    assert isinstance(direct, Form)
    added = await service.submit(ADMIN, direct.id, {"question": "What is SLO?", "answer": "A target."})
    assert "Added to “glossary”" in added.title
    assert (await service.quiz(ANN, "glossary")).title == "New card · glossary #1"
    duplicate = await service.submit(ADMIN, direct.id, {"question": "What is SLO?", "answer": "again"})
    assert duplicate.is_error and "already has that question" in duplicate.title
    assert (await service.deck_add(ADMIN, "ml")).is_error  # bundled decks are not edited from chat


async def test_non_admins_cannot_import_or_remove(service: StudyService) -> None:
    refused = await imported(service, "team-notes.md", MARKDOWN.encode(), ANN)
    assert refused.is_error and refused.title == "Only admins can import decks."
    assert await service.store.deck_infos("test:guild-1") == await service.store.deck_infos(None)
    await imported(service, "team-notes.md", MARKDOWN.encode())
    assert (await service.deck_remove(ANN, "team-notes")).is_error


async def test_remove_retires_a_workspace_deck_but_not_a_bundled_one(service: StudyService) -> None:
    await imported(service, "team-notes.md", MARKDOWN.encode())
    bundled = await service.deck_remove(ADMIN, "ml-interview-questions")
    assert bundled.is_error and "bundled deck" in bundled.title
    confirm = await service.deck_remove(ADMIN, "team-notes")
    assert [a.label for a in confirm.actions] == ["Remove “team-notes”"]
    assert (await service.act(ANN, confirm.actions[0].id)).is_error  # type: ignore[union-attr]
    done = await service.act(ADMIN, confirm.actions[0].id)
    assert isinstance(done, Message) and done.title == "Removed the deck “team-notes”."
    assert (await service.quiz(ANN, "team-notes")).is_error
    assert "Team notes" not in text_of(await service.decks(ANN))


async def test_refused_files_name_the_problem_and_write_nothing(service: StudyService) -> None:
    before = await service.store.deck_infos("test:guild-1")
    malformed = text_of(await imported(service, "bad.csv", b"question,answer\nQ1,A1\n,A2\nQ3,\n"))
    assert "bad.csv:3:" in malformed and "bad.csv:4: the answer is empty" in malformed
    assert "Nothing was written" in malformed
    wrong = text_of(await imported(service, "sheet.xlsx", b"PK\x03\x04junk"))
    assert "not a deck file" in wrong or "not a readable zip" in wrong
    big = await imported(service, "big.csv", b"question,answer\n" + b"x" * IMPORT_FILE_MAX)
    assert big.is_error and "at most 5 MB" in big.title
    rows = "question,answer\n" + "".join(f"Q{i},A\n" for i in range(CARDS_MAX + 1))
    too_many = text_of(await imported(service, "many.csv", rows.encode()))
    assert f"at most {CARDS_MAX:,}" in too_many
    bundled_name = text_of(await imported(service, "ml-interview-questions.csv", b"question,answer\nQ,A\n"))
    assert "bundled deck is already called" in bundled_name
    assert await service.store.deck_infos("test:guild-1") == before
    # A broken re-import leaves the deck as it was.
    await imported(service, "team-notes.md", MARKDOWN.encode())
    await imported(service, "team-notes.md", b"# Team notes\n\n### **1. Q**\n")
    assert "2 questions + 1 follow-up" in text_of(await service.decks(ANN))


async def test_the_workspace_deck_limit(service: StudyService, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.core.services.workspace_decks.WORKSPACE_DECKS_MAX", 2)
    for name in ("a", "b"):
        assert not (await imported(service, f"{name}.csv", b"question,answer\nQ,A\n")).is_error
    over = await imported(service, "c.csv", b"question,answer\nQ,A\n")
    assert over.is_error and "has 2 decks already" in over.title
    assert not (await imported(service, "a.csv", b"question,answer\nQ2,A\n")).is_error  # an update is fine
    assert "c" not in {d.name for d in await service.store.deck_infos("test:guild-1")}


def test_the_command_table_has_the_deck_commands() -> None:
    paths = {c.path: c for c in COMMANDS}
    assert {"deck import", "deck export", "deck add", "deck review", "deck remove"} <= set(paths)
    assert paths["deck import"].admin and paths["deck review"].admin and paths["deck remove"].admin
    assert not paths["deck add"].admin and not paths["deck export"].admin


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400) | st.text(alphabet=',;\t"\n#*-qa \ufeff', max_size=200).map(str.encode))
def test_any_bytes_import_whole_or_not_at_all(data: bytes) -> None:
    import asyncio

    async def run() -> None:
        service = StudyService(MemoryStore(), FakeClock(START), content=(CONTENT,))
        await service.library.reload()
        store = service.store
        assert isinstance(store, MemoryStore)
        before = (dict(store.decks), dict(store.cards))
        reply = await service.deck_import(ADMIN, Upload("upload.csv", data))
        if reply.is_error:
            assert (store.decks, store.cards) == before
        else:
            deck = next(d for d in await store.deck_infos("test:guild-1") if d.name == "upload")
            stored = await store.deck_cards(deck.id)
            assert stored is not None and stored.cards

    asyncio.run(run())


def test_the_readmes_examples_import() -> None:
    import re

    from bot.core.decks.formats import import_deck

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Your own decks") : readme.index("## Configuration")]
    names = {"markdown": "team-notes.md", "csv": "notes.csv", "text": "quizlet-export.txt"}
    blocks = re.findall(r"```(\w+)\n(.*?)```", section, flags=re.DOTALL)
    assert [lang for lang, _ in blocks] == ["markdown", "csv", "text"]
    for lang, body in blocks:
        text = "\n".join(line.removeprefix("  ") for line in body.split("\n"))
        result = import_deck(names[lang], text.encode("utf-8"))
        assert not isinstance(result, list), result
        assert result.cards >= 1


def test_adapters_know_which_buttons_and_forms_need_the_clickers_role() -> None:
    from bot.core import actions

    assert actions.needs_admin("sugg:7:approve") and actions.needs_admin("deckrm:team-notes")
    assert actions.needs_admin("card:team-notes") and actions.needs_admin("card:")
    assert actions.needs_admin("suggform:7")
    assert not actions.needs_admin("grade:7:good") and not actions.needs_admin("answer:7")
    assert not actions.needs_admin("sugg:7:approve-all") and not actions.needs_admin("deckrm:../x")


async def test_a_member_can_have_only_so_many_cards_waiting(
    service: StudyService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.core.services.workspace_decks.PENDING_PER_MEMBER", 2)
    await imported(service, "team-notes.md", MARKDOWN.encode())
    form = await service.deck_add(ANN, "team-notes")
    assert isinstance(form, Form)
    for n in range(2):
        ok = await service.submit(ANN, form.id, {"question": f"Q{n}?", "answer": "A"})
        assert not ok.is_error
    full = await service.submit(ANN, form.id, {"question": "Q3?", "answer": "A"})
    assert full.is_error and "2 cards waiting for review already" in full.title
    assert "2 suggested cards waiting" in text_of(await service.deck_review(ADMIN))


async def test_deck_names_from_any_file_name(service: StudyService) -> None:
    long_name = await imported(service, "Ünïcode notes " * 60 + ".csv", b"question,answer\nQ,A\n")
    assert not long_name.is_error, text_of(long_name)
    assert f"/quiz {('unicode-notes-' * 5)[:60].strip('-')}" in text_of(long_name)
    first = text_of(await imported(service, "日本語.csv", b"question,answer\nQ,A\n"))
    second = text_of(await imported(service, "中文.csv", b"question,answer\nQ,A\n"))
    assert "imported" in first and "imported" in second  # two decks, not one updated
    spanish = text_of(await imported(service, "Español.csv", b"question,answer\nQ,A\n"))
    assert "Imported Español" in spanish and "/quiz espanol" in spanish  # the title keeps its accents
    assert "espanol" in await service.deck_names(ADMIN)


async def test_daily_posts_and_deck_reloads_know_workspace_decks(service: StudyService) -> None:
    from tests.daily_helpers import RecordingPoster, make_runner

    await imported(service, "team-notes.md", MARKDOWN.encode())
    # The content folders are read again (SIGHUP, /decks reload): the workspace's deck stays.
    await service.library.reload()
    assert "Team notes" in text_of(await service.decks(ANN))
    await service.daily.configure(ADMIN, "general", "11:00", "UTC", "team-notes")
    await service.daily.configure(ELSEWHERE_ADMIN, "general", "11:00", "UTC")  # all of its decks
    poster = RecordingPoster()
    runner = make_runner(service, poster)
    for _ in range(4):
        await runner.sweep()
        service.clock.advance(days=1)  # type: ignore[attr-defined]
    mine = [p.message for p in poster.posts if p.workspace_ref == "guild-1"]
    theirs = [p.message for p in poster.posts if p.workspace_ref == "guild-2"]
    assert len(mine) == len(theirs) == 3  # set at noon for 11:00: the first post is the next day's
    assert all(any(s.heading and s.heading.startswith("team-notes #") for s in m.sections) for m in mine), [
        m.sections for m in mine
    ]
    assert not any("team-notes" in m.plain_text() or "w." in m.plain_text() for m in theirs)


async def test_an_admins_card_joins_the_deck_its_typed_name_means(service: StudyService) -> None:
    await imported(service, "team-notes.csv", b"question,answer\nQ one?,A one\nQ two?,A two\n")
    form = await service.card_from_message(ADMIN, "Paris")  # the deck typed as members see it in prose
    assert isinstance(form, Form)
    added = await service.submit(
        ADMIN, form.id, {"deck": "Team Notes", "question": "Capital of France?", "answer": "Paris"}
    )
    assert "Added to “team-notes”" in added.title, text_of(added)
    assert "3 questions + 0 follow-ups" in text_of(await service.decks(ANN))  # nothing retired
    exported = (await service.deck_export(ADMIN, "Team Notes")).files[0].data.decode()
    assert "Q one?" in exported and "Q two?" in exported and "Capital of France?" in exported
    # /deck add knows the deck by that text too, and its form goes to the deck itself.
    again = await service.deck_add(ADMIN, "Team Notes")
    assert isinstance(again, Form) and again.id == "card:team-notes"
    # Typed and file names are made alike: the deck of Español.csv is the deck "Español".
    await imported(service, "Español.csv", b"question,answer\nHola?,Hello\n")
    spanish = await service.submit(ADMIN, form.id, {"deck": "Español", "question": "Gato?", "answer": "Cat"})
    assert "Added to “espanol”" in spanish.title, text_of(spanish)
    names = await service.deck_names(ADMIN)
    assert "espanol" in names and not any(n.startswith("espa-") for n in names)


async def test_an_admins_card_never_shadows_a_bundled_deck(service: StudyService) -> None:
    form = await service.card_from_message(ADMIN, "Paris")
    assert isinstance(form, Form)
    for typed in ("ML Interview Questions", "ml interview questions!"):
        refused = await service.submit(ADMIN, form.id, {"deck": typed, "question": "Q?", "answer": "A"})
        assert refused.is_error and "bundled deck" in refused.title, typed
        assert (await service.deck_add(ADMIN, typed)).is_error  # type: ignore[union-attr]
    own = [d for d in await service.store.deck_infos(ADMIN.workspace_id) if d.workspace_id]
    assert own == []
    quiz = await service.quiz(ANN, "ml-interview-questions")
    assert not quiz.is_error and "Q?" not in quiz.sections[0].text


async def test_starting_a_deck_never_replaces_one(service: StudyService) -> None:
    from bot.core.decks.workspace import workspace_deck_id
    from bot.core.model.models import Card, CardKind, Deck

    await imported(service, "team-notes.csv", b"question,answer\nQ one?,A one\nQ two?,A two\n")
    deck_id = workspace_deck_id(ADMIN.workspace_id, "team-notes")
    card = Card(key="9", number=9, kind=CardKind.MAIN, question="New?", answer="x", key_terms=(), line=0)
    one = Deck(id=deck_id, title="team-notes", cards=(card,), source="chat")
    store = service.store
    assert (
        await store.create_workspace_deck(ADMIN.workspace_id, "team-notes", one, "ada", START, 100) is False
    )
    kept = await store.deck_cards(deck_id)
    assert kept is not None and [c.question for c in kept.cards] == ["Q one?", "Q two?"]
    # A removed deck can be started again: with the new card only.
    confirm = await service.deck_remove(ADMIN, "team-notes")
    await service.act(ADMIN, confirm.actions[0].id)
    assert await store.create_workspace_deck(ADMIN.workspace_id, "team-notes", one, "ada", START, 100) is True
    started = await store.deck_cards(deck_id)
    assert started is not None and [c.question for c in started.cards] == ["New?"]
    other = Deck(id=workspace_deck_id(ADMIN.workspace_id, "other"), title="other", cards=(card,))
    assert await store.create_workspace_deck(ADMIN.workspace_id, "other", other, "ada", START, 1) is None
    assert "other" not in {d.name for d in await store.deck_infos(ADMIN.workspace_id)}


async def test_a_deck_named_with_an_underscore_can_be_removed_and_added_to(service: StudyService) -> None:
    await imported(service, "_draft.csv", b"question,answer\nQ?,A\n")
    form = await service.deck_add(ADMIN, "_draft")
    assert isinstance(form, Form)
    added = await service.submit(ADMIN, form.id, {"question": "Q2?", "answer": "A2"})
    assert "Added to “_draft”" in added.title, text_of(added)
    confirm = await service.deck_remove(ADMIN, "_draft")
    done = await service.act(ADMIN, confirm.actions[0].id)
    assert isinstance(done, Message) and done.title == "Removed the deck “_draft”.", text_of(done)


@given(text=st.text(max_size=120))
def test_every_deck_name_survives_the_button_and_form_ids(text: str) -> None:
    from bot.core.actions import CardForm, RemoveDeck, decode_button, decode_form
    from bot.core.decks.workspace import deck_name, file_deck_name

    for name in (deck_name(text), file_deck_name(text + ".csv"), file_deck_name(text)):
        if name:
            assert decode_button(RemoveDeck(name).id) == RemoveDeck(name), name
            assert decode_form(CardForm(name).id) == CardForm(name), name


def _csv_of(rows: int, answer_words: int) -> bytes:
    lines = [f"Question number {i}?,{'Answer text word ' * answer_words}{i}" for i in range(rows)]
    return ("question,answer\n" + "\n".join(lines) + "\n").encode()


async def test_an_export_over_2_mb_imports_back(service: StudyService) -> None:
    await imported(service, "big.csv", _csv_of(1500, 90))
    exported = await service.deck_export(ADMIN, "big")
    data = exported.files[0].data
    assert 2_000_000 < len(data) <= IMPORT_FILE_MAX
    again = await imported(service, "big.md", data, ELSEWHERE_ADMIN)
    assert not again.is_error and "1,500 cards" in text_of(again), text_of(again)[:300]


async def test_an_export_too_big_to_import_is_refused(
    service: StudyService, monkeypatch: pytest.MonkeyPatch
) -> None:
    await imported(service, "big.csv", _csv_of(300, 90))
    monkeypatch.setattr("bot.core.services.workspace_decks.IMPORT_FILE_MAX", 100_000)
    refused = await service.deck_export(ADMIN, "big")
    assert refused.is_error and not refused.files
    assert "imported only up to" in refused.title and "Nothing was exported" in text_of(refused)


async def _suggested(service: StudyService) -> int:
    await imported(service, "team-notes.md", MARKDOWN.encode())
    form = await service.deck_add(ANN, "team-notes")
    assert isinstance(form, Form)
    await service.submit(ANN, form.id, {"question": "Where do we test?", "answer": "Staging."})
    return (await service.store.pending_suggestions(ADMIN.workspace_id, 5))[0].id


def _decided_meanwhile(service: StudyService, monkeypatch: pytest.MonkeyPatch, status: str) -> None:
    """Another admin's decision lands just after this one read the suggestion as pending."""
    from bot.core.model.models import SuggestionStatus

    store = service.store
    read, decide = store.get_suggestion, store.decide_suggestion

    async def then_decided(suggestion_id: int) -> object:
        found = await read(suggestion_id)
        await decide(suggestion_id, SuggestionStatus(status), "bob", START)
        return found

    monkeypatch.setattr(store, "get_suggestion", then_decided)


async def test_approving_a_card_rejected_that_moment_adds_nothing(
    service: StudyService, monkeypatch: pytest.MonkeyPatch
) -> None:
    suggestion_id = await _suggested(service)
    _decided_meanwhile(service, monkeypatch, "rejected")
    approved = await service.submit(ADMIN, f"suggform:{suggestion_id}", {"deck": "team-notes"})
    assert approved.is_error and "already decided" in approved.title
    assert all("Where do we test?" not in q for q in await questions(service, ANN, "team-notes"))
    decided = await service.store.get_suggestion(suggestion_id)
    assert decided is not None and decided.status.value == "rejected" and decided.decided_by == "bob"


async def test_rejecting_a_card_approved_that_moment_says_so(
    service: StudyService, monkeypatch: pytest.MonkeyPatch
) -> None:
    suggestion_id = await _suggested(service)
    _decided_meanwhile(service, monkeypatch, "approved")
    rejected = await service.act(ADMIN, f"sugg:{suggestion_id}:reject")
    assert isinstance(rejected, Message) and rejected.is_error and "already decided" in rejected.title


async def test_an_approval_whose_card_is_refused_leaves_it_waiting(service: StudyService) -> None:
    suggestion_id = await _suggested(service)
    direct = await service.deck_add(ADMIN, "team-notes")  # an admin added the same card meanwhile
    assert isinstance(direct, Form)
    await service.submit(ADMIN, direct.id, {"question": "Where do we test?", "answer": "Staging."})
    duplicate = await service.submit(ADMIN, f"suggform:{suggestion_id}", {"deck": "team-notes"})
    assert duplicate.is_error and "already has that question" in duplicate.title
    waiting = await service.store.get_suggestion(suggestion_id)
    assert waiting is not None and waiting.status.value == "pending" and waiting.decided_by is None
    assert "From ann, for “team-notes”" in text_of(await service.deck_review(ADMIN))
    fixed = await service.submit(
        ADMIN, f"suggform:{suggestion_id}", {"deck": "team-notes", "question": "Where do we test it?"}
    )
    assert "Added the card from ann" in fixed.title, text_of(fixed)


async def test_cards_are_not_made_in_a_direct_message(service: StudyService) -> None:
    in_dm = member("bob", workspace="dm-bob")  # Discord's DMs: a "workspace" of one, with no admins
    made = await service.card_from_message(in_dm, "Paris")
    assert isinstance(made, Message) and made.is_error and "not in a direct message" in made.title
    submitted = await service.submit(
        in_dm, "card:", {"deck": "", "question": "Capital of France?", "answer": "Paris"}
    )
    assert submitted.is_error and "not in a direct message" in submitted.title
    added = await service.deck_add(in_dm, "team-notes")
    assert isinstance(added, Message) and added.is_error
    assert await service.store.pending_suggestions(in_dm.workspace_id, 5) == []


async def test_an_admins_card_without_a_deck_is_kept_for_review(service: StudyService) -> None:
    await imported(service, "team-notes.md", MARKDOWN.encode())
    form = await service.card_from_message(ADMIN, "Paris")
    assert isinstance(form, Form)
    assert next(f for f in form.fields if f.name == "deck").required  # an admin names the deck
    member_form = await service.card_from_message(ANN, "Paris")
    assert isinstance(member_form, Form) and not member_form.fields[0].required
    # The role was not known when the form opened (Slack looks it up only on submit): nothing is lost.
    kept = await service.submit(
        ADMIN, "card:", {"deck": " ", "question": "Capital of France?", "answer": "Paris"}
    )
    assert not kept.is_error and "waits in /deck review" in kept.title, text_of(kept)
    review = await service.deck_review(ADMIN)
    assert "Capital of France?" in text_of(review)
    approval = await service.act(ADMIN, next(a.id for a in review.actions if a.label == "Approve"))
    assert isinstance(approval, Form)
    done = await service.submit(ADMIN, approval.id, {"deck": "team-notes"})
    assert "to “team-notes”" in done.title, text_of(done)
