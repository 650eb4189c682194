"""The wording of decks: the list with the member's progress, and what a reload served or refused."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core import cardtext
from bot.core.actions import OnSuggestion
from bot.core.decks.formats.import_result import ImportResult
from bot.core.decks.workspace import shown
from bot.core.messages import Action, Attachment, Field, Form, Message, Section, Style
from bot.core.model.models import (
    Deck,
    DeckChange,
    DeckProblem,
    DeckProgress,
    Suggestion,
    SuggestionStatus,
)
from bot.core.model.typed_text import echo
from bot.core.texts.words import plural


def decks(progress: Sequence[DeckProgress], problems: Sequence[DeckProblem]) -> Message:
    sections = [
        Section(
            f"{plural(p.main_cards, 'question')} + {plural(p.followup_cards, 'follow-up')} · "
            f"you've learned {p.learned}, {p.due} due\n"
            + (f"added by {p.added_by} · " if p.added_by is not None else "comes with studybot · ")
            + f"/quiz {shown(p.deck_id)}",
            p.title,
        )
        for p in progress
    ]
    if not sections:
        sections.append(Section("No decks are loaded."))
    if problems:
        sections.append(_refused_section(problems))
    return Message(title="Decks", sections=tuple(sections))


REFUSED_HEADING = "Decks refused (fix the files, then /decks reload)"


def _refused_section(problems: Sequence[DeckProblem]) -> Section:
    # Problems quote deck syntax (`**Theory:**`): escaped, so they read exactly as an author must write it.
    return Section(cardtext.escape(_refused(problems)), REFUSED_HEADING, markdown=True)


def _refused(problems: Sequence[DeckProblem], shown: int = 10) -> str:
    lines = [str(p) for p in problems[:shown]]
    if len(problems) > shown:
        lines.append(f"… and {len(problems) - shown} more: run `studybot decks check` for all of them")
    return "\n".join(lines)


def decks_reloaded(served: Sequence[Deck], problems: Sequence[DeckProblem]) -> Message:
    """The answer to /decks reload: what is served now, and why the other files were refused."""

    def count(n: int, noun: str) -> str:
        return f"{n} {noun}" + ("" if n == 1 else "s")

    lines = [
        f"{d.id} — “{d.title}”, {count(len(d.main_cards), 'question')} + "
        f"{count(len(d.followup_cards), 'follow-up')}"
        for d in served
    ]
    sections = [Section("\n".join(lines) or "No deck is loaded.", "Served now")]
    if problems:
        sections.append(_refused_section(problems))
    refused_files = len({p.path for p in problems})
    return Message(
        title=f"Decks reloaded: {len(served)} served, {refused_files} refused",
        sections=tuple(sections),
        is_error=bool(problems),
    )


# -- a workspace's own decks ------------------------------------------------------------------------

QUESTION_FIELD = "question"
ANSWER_FIELD = "answer"
FOLLOWUP_QUESTION_FIELD = "followup_question"
FOLLOWUP_ANSWER_FIELD = "followup_answer"
DECK_FIELD = "deck"
CARD_FIELDS = (QUESTION_FIELD, ANSWER_FIELD, FOLLOWUP_QUESTION_FIELD, FOLLOWUP_ANSWER_FIELD, DECK_FIELD)
# Discord's text inputs hold at most 4,000 characters; the deck's own checks apply after that.
QUESTION_MAX = 1_000
ANSWER_MAX = 4_000

IMPORT_HINT = (
    "Discord: attach it to /deck import. Slack: /study deck import opens a form to pick the file (or use "
    "“Import as deck” on a posted file). Terminal: /deck import PATH. Formats: our Markdown, CSV or TSV with "
    "a question,answer header, a Quizlet export, an Anki .apkg; at most 5 MB."
)


def import_refused(filename: str, problems: Sequence[DeckProblem]) -> Message:
    return Message(
        title=f"“{echo(filename)}” was not imported: {plural(len(problems), 'problem')}. "
        "Nothing was written.",
        sections=(
            Section(cardtext.escape(_refused(problems, shown=15)), "Fix these and send it again", True),
        ),
        is_error=True,
    )


def imported(name: str, result: ImportResult, change: DeckChange) -> Message:
    lines = [result.summary()]
    if not change.created:
        parts = [f"{change.kept} kept their progress", f"{change.added} new"]
        if change.restored:
            parts.append(f"{change.restored} came back with their progress")
        if change.retired:
            parts.append(f"{change.retired} no longer in the file, retired")
        lines.append("Updated the deck: " + ", ".join(parts) + ".")
    return Message(
        title=f"Deck “{name}” {'imported' if change.created else 'updated'}",
        sections=(Section("\n".join(lines)),),  # core wording: the summary's **bold** is its only markup
        footer=f"Study it with /quiz {name}; export it with /deck export {name}.",
    )


def exported(name: str, deck: Deck, data: bytes) -> Message:
    file = Attachment(
        filename=f"{name}.md",
        data=data,
        content_type="text/markdown; charset=utf-8",
        description=f"The deck “{deck.title}” as a Markdown deck file",
    )
    return Message(
        title=f"Deck “{name}”: {plural(len(deck.main_cards), 'question')} + "
        f"{plural(len(deck.followup_cards), 'follow-up')}",
        sections=(Section("Import this file anywhere with /deck import to get the same cards."),),
        files=(file,),
    )


def card_form(
    form_id: str,
    deck: str | None,
    *,
    answer: str = "",
    new: bool = False,
    ask_deck: bool = False,
    admin: bool = False,
) -> Form:
    fields = [
        Field(QUESTION_FIELD, "Question", QUESTION_MAX, placeholder="What should the card ask?"),
        Field(ANSWER_FIELD, "Answer", ANSWER_MAX, value=answer[:ANSWER_MAX]),
        Field(FOLLOWUP_QUESTION_FIELD, "Follow-up question", QUESTION_MAX, required=False),
        Field(FOLLOWUP_ANSWER_FIELD, "Follow-up answer", ANSWER_MAX, required=False),
    ]
    if ask_deck:
        fields.insert(
            0,
            Field(
                DECK_FIELD,
                "Deck",
                60,
                # An admin's card goes straight into the deck, so an admin names it (a new name starts one).
                placeholder="Its name; a new name starts a deck"
                if admin
                else "Its name; leave it empty for an admin to choose",
                required=admin,
                multiline=False,
            ),
        )
    title = "Make a study card" if deck is None else f"New card for “{deck}”"[:45]
    context = f"A new deck “{deck}” starts with this card." if new else ""
    return Form(id=form_id, title=title, fields=tuple(fields), context=context)


def card_added(deck: str, question: str) -> Message:
    return Message(
        title=f"Added to “{deck}”.",
        sections=(Section(question, markdown=True),),
        footer=f"Study it with /quiz {deck}.",
    )


def suggested(deck: str | None) -> Message:
    where = f" for “{deck}”" if deck else ""
    return Message(
        title=f"Thanks! Your card{where} waits for an admin's review.",
        sections=(Section("You'll be told here whether it was added."),),
    )


def kept_for_review() -> Message:
    """An admin's card sent without a deck: kept in the review queue rather than lost."""
    return Message(
        title="No deck was named, so your card waits in /deck review.",
        sections=(Section("Approve it there and type its deck: nothing you wrote is lost."),),
    )


def review(pending: Sequence[Suggestion], waiting: int, names: dict[str, str]) -> Message:
    if not pending:
        return Message(title="No suggested cards are waiting.")
    sections: list[Section] = []
    actions: list[Action] = []
    for s in pending:
        deck = names.get(s.deck_id or "", "")
        heading = f"From {s.suggester}" + (f", for “{deck}”" if deck else "")
        text = f"{s.question}\n\n{s.answer}"
        if s.followup_question:
            text += f"\n\nFollow-up: {s.followup_question}\n\n{s.followup_answer}"
        sections.append(Section(text, heading, markdown=True))
        actions.extend(
            [
                Action(OnSuggestion(s.id, "approve").id, "Approve", Style.SUCCESS),
                Action(OnSuggestion(s.id, "edit").id, "Edit"),
                Action(OnSuggestion(s.id, "reject").id, "Reject", Style.DANGER),
            ]
        )
    more = waiting - len(pending)
    return Message(
        title=f"{plural(waiting, 'suggested card')} waiting.",
        sections=tuple(sections),
        actions=tuple(actions),
        footer=f"{more} more after this one." if more > 0 else None,
    )


def approve_form(form_id: str, suggestion: Suggestion, deck: str, edit: bool) -> Form:
    deck_field = Field(
        DECK_FIELD,
        "Into which deck",
        60,
        value=deck,
        placeholder="A deck of this workspace (a new name starts a deck)",
        multiline=False,
    )
    if not edit:
        return Form(
            id=form_id,
            title="Approve the card",
            fields=(deck_field,),
            context=f"{suggestion.question}\n\n{suggestion.answer}",
        )
    return Form(
        id=form_id,
        title="Edit and approve the card",
        fields=(
            deck_field,
            Field(QUESTION_FIELD, "Question", QUESTION_MAX, value=suggestion.question[:QUESTION_MAX]),
            Field(ANSWER_FIELD, "Answer", ANSWER_MAX, value=suggestion.answer[:ANSWER_MAX]),
            Field(
                FOLLOWUP_QUESTION_FIELD,
                "Follow-up question",
                QUESTION_MAX,
                value=suggestion.followup_question[:QUESTION_MAX],
                required=False,
            ),
            Field(
                FOLLOWUP_ANSWER_FIELD,
                "Follow-up answer",
                ANSWER_MAX,
                value=suggestion.followup_answer[:ANSWER_MAX],
                required=False,
            ),
        ),
    )


def outcomes(told: Sequence[Suggestion], names: dict[str, str]) -> Message:
    lines = []
    for s in told:
        first = s.question.split("\n", 1)[0][:80]
        if s.status is SuggestionStatus.APPROVED:
            lines.append(f"Your card “{first}” was approved by {s.decided_by or 'an admin'}.")
        else:
            lines.append(f"Your card “{first}” was not added ({s.decided_by or 'an admin'} rejected it).")
    return Message(
        title="Your suggested cards", sections=(Section(cardtext.escape("\n".join(lines)), markdown=True),)
    )


def outcome_told(s: Suggestion, deck: str | None) -> Message:
    """A member's direct message about one decision (names as plain text: no one is pinged)."""
    first = s.question.split("\n", 1)[0][:80]
    admin = s.decided_by or "an admin"
    if s.status is SuggestionStatus.APPROVED:
        into = f"the deck “{deck}”" if deck else "its deck"
        line = f"Your card “{first}” was approved into {into} by {admin}."
    else:
        line = f"Your card “{first}” was not taken: {admin} rejected it."
    return Message(
        title="Your suggested card",
        sections=(Section(cardtext.escape(line), markdown=True),),
        private=False,
        footer="Suggest another with /deck add DECK.",
    )


def confirm_remove(name: str, action_id: str) -> Message:
    return Message(
        title=f"Remove the deck “{name}”?",
        sections=(
            Section(
                "Members stop getting its cards. Progress is kept: importing a file of that name again "
                "brings the deck back as it was."
            ),
        ),
        actions=(Action(action_id, f"Remove “{name}”"[:80], Style.DANGER),),
    )


def removed(name: str) -> Message:
    return Message(
        title=f"Removed the deck “{name}”.", footer="Import it again to bring it back with its progress."
    )
