"""Button and form ids: one module builds and reads them, and ids already posted keep working."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core import actions
from bot.core.actions import (
    AnswerForm,
    DailyReveal,
    FollowUp,
    GradeAsk,
    Next,
    Reveal,
    Skip,
    StartReview,
    StopReminders,
    StudyCard,
    Write,
    decode_button,
    decode_form,
)
from bot.core.messages import Message
from bot.core.model.models import Grade
from bot.core.service import StudyService
from tests.conftest import member

# Ids as buttons and forms already posted by earlier releases carry them: they must read the same.
POSTED = [
    ("reveal:42", Reveal(42)),
    ("write:42", Write(42)),
    ("skip:42", Skip(42)),
    ("followup:42", FollowUp(42)),
    ("grade:42:again", GradeAsk(42, Grade.AGAIN)),
    ("grade:42:hard", GradeAsk(42, Grade.HARD)),
    ("grade:42:good", GradeAsk(42, Grade.GOOD)),
    ("grade:42:easy", GradeAsk(42, Grade.EASY)),
    ("next", Next()),
    ("next:ml-interview-questions", Next("ml-interview-questions")),
    ("nextfor:5", Next(member_id=5)),
    ("nextfor:5:ml-interview-questions", Next("ml-interview-questions", 5)),
    ("daily:7", DailyReveal(7)),
    ("review:5", StartReview(5)),
    ("reminders-off:5", StopReminders(5)),
    ("study:9", StudyCard(9)),
]

FORGED = [
    "answer:²",  # a Unicode digit: str.isdigit() says yes, int() says no
    "reveal:٤٢",
    "reveal: 42",
    "reveal:+42",
    "reveal:4_2",
    "reveal:42:extra",
    "reveal:",
    "grade:1:bogus",
    "grade:1:GOOD ",
    "grade:1",
    "daily:x",
    "review:",
    "reminders-off:5:5",
    "study:-1",
    "nextfor:",
    "nextfor:x",
    "flip:42",
    "",
    ":",
    "reveal:" + "9" * 40,
    "next:" + "x" * 200,
]


@pytest.mark.parametrize(("text", "decoded"), POSTED)
def test_posted_button_ids_still_decode_and_encode_byte_for_byte(text: str, decoded: object) -> None:
    assert decode_button(text) == decoded
    assert decoded.id == text  # type: ignore[attr-defined]


def test_posted_form_ids_still_decode() -> None:
    assert decode_form("answer:42") == AnswerForm(42)
    assert AnswerForm(42).id == "answer:42"


@pytest.mark.parametrize("text", FORGED)
def test_forged_ids_decode_to_nothing(text: str) -> None:
    assert decode_button(text) is None
    assert decode_form(text) is None


ids = st.one_of(
    st.text(max_size=120),
    st.sampled_from(
        [
            "reveal",
            "write",
            "skip",
            "followup",
            "grade",
            "daily",
            "next",
            "nextfor",
            "answer",
            "review",
            "reminders-off",
            "study",
        ]
    ).flatmap(lambda verb: st.builds(lambda rest: f"{verb}:{rest}", st.text(max_size=110))),
)


@given(ids)
def test_any_text_decodes_to_none_or_to_an_id_that_encodes_back(text: str) -> None:
    for decode in (decode_button, decode_form):
        found = decode(text)
        if found is not None:
            assert decode(found.id) == found
            assert len(found.id) <= actions.ID_LIMIT


async def test_forged_ids_get_the_not_one_i_know_reply(service: StudyService) -> None:
    ann = member("ann")
    for text in FORGED:
        clicked = await service.act(ann, text)
        assert isinstance(clicked, Message) and clicked.is_error
        assert clicked.title.endswith("is not one I know."), text
        submitted = await service.submit(ann, text, "my answer")
        assert submitted.title == "That form is not one I know.", text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=ids)
async def test_no_id_raises(service: StudyService, text: str) -> None:
    ann = member("ann")
    if decode_button(text) is None:
        reply = await service.act(ann, text)
        assert isinstance(reply, Message) and reply.title.endswith("is not one I know.")
    if decode_form(text) is None:
        assert (await service.submit(ann, text, "x")).title == "That form is not one I know."


async def test_the_ids_the_core_builds_are_the_ones_it_reads(service: StudyService) -> None:
    ann = member("ann")
    question = await service.quiz(ann)
    assert [decode_button(a.id) for a in question.actions] == [
        Reveal(int(question.actions[0].id.split(":")[1])),
        Write(int(question.actions[0].id.split(":")[1])),
        Skip(int(question.actions[0].id.split(":")[1])),
    ]
    revealed = await service.act(ann, question.actions[0].id)
    assert isinstance(revealed, Message)
    assert all(isinstance(decode_button(a.id), GradeAsk) for a in revealed.actions)
    graded = await service.act(ann, revealed.actions[2].id)
    ask = await service.store.get_ask(int(question.actions[0].id.split(":")[1]))
    assert ask is not None  # Next names the member, so a click in a DM goes on in their workspace
    assert isinstance(graded, Message) and decode_button(graded.actions[-1].id) == Next(
        member_id=ask.member_id
    )
