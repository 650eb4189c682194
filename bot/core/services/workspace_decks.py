"""A workspace's own decks: import a file, export a deck, make a card (admins straight in, members through
the review queue), review suggestions, remove a deck. Bundled decks are the content folders' and are only
read here (exported, listed)."""

from __future__ import annotations

import asyncio
import dataclasses

from bot.core.actions import CardForm, RemoveDeck, SuggestionForm
from bot.core.decks.formats import export_markdown, import_deck
from bot.core.decks.formats.fields import DeckBuilder, RawCard
from bot.core.decks.limits import CARDS_MAX, IMPORT_FILE_MAX, SOURCE_MAX, WORKSPACE_DECKS_MAX
from bot.core.decks.workspace import deck_name, file_deck_name, workspace_deck_id
from bot.core.messages import Form, FormValues, Message, Upload, error
from bot.core.model.models import (
    Caller,
    CardKind,
    Deck,
    DeckInfo,
    Suggestion,
    SuggestionStatus,
)
from bot.core.model.typed_text import echo
from bot.core.ports import Clock, DecksStore
from bot.core.refusal import Refusal, refusal, refuse, refused
from bot.core.services.decks import match_deck
from bot.core.services.members import who
from bot.core.texts import decks as texts

REVIEW_SHOWN = 1  # suggestions are reviewed one at a time: each reply shows the next
PENDING_PER_MEMBER = 20  # a member's cards waiting for review: enough to help, too few to flood


class WorkspaceDeckService:
    def __init__(self, store: DecksStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    # -- import and export ----------------------------------------------------------------------

    async def import_file(self, caller: Caller, upload: Upload | None) -> Message:
        refuse(caller)
        _admin_only(caller, "import decks")
        if upload is None:
            raise refusal("Send the deck file with the command.", texts.IMPORT_HINT)
        if len(upload.data) > IMPORT_FILE_MAX:
            raise refusal(
                f"“{echo(upload.name)}” is {len(upload.data) / 1_000_000:.1f} MB; "
                f"a deck file can be at most {IMPORT_FILE_MAX // 1_000_000} MB.",
                "Nothing was imported. Split the deck, or export an Anki deck without media.",
            )
        name = file_deck_name(upload.name)
        infos = await self.store.deck_infos(caller.workspace_id)
        if any(d.workspace_id is None and d.name == name for d in infos):
            raise refusal(
                f"A bundled deck is already called “{name}”.",
                "Nothing was imported. Rename the file and import it again.",
            )
        deck_id = workspace_deck_id(caller.workspace_id, name)
        # Anki's reader is blocking (a Rust backend, temporary files); a big CSV takes a moment too.
        result = await asyncio.to_thread(import_deck, upload.name, upload.data, deck_id)
        if isinstance(result, list):
            return texts.import_refused(upload.name, result)
        me = await who(self.store, caller)
        deck = dataclasses.replace(result.deck, source=upload.name[:SOURCE_MAX])  # as its column holds it
        change = await self.store.save_workspace_deck(
            caller.workspace_id,
            name,
            deck,
            me.member.display_name,
            self.clock.now(),
            WORKSPACE_DECKS_MAX,
        )
        if change is None:
            raise _too_many_decks("Nothing was imported.")
        return texts.imported(name, result, change)

    async def export(self, caller: Caller, name: str | None) -> Message:
        refuse(caller, deck_name=name)
        info = await self._deck(caller, name)
        deck = await self.store.deck_cards(info.id)
        if deck is None:
            raise refusal(f"There is no deck called “{echo(info.name)}”.", "See /decks.")
        data = export_markdown(deck).encode("utf-8")
        if len(data) > IMPORT_FILE_MAX:  # a file that could not be imported again is no export
            raise refusal(
                f"The deck “{info.name}” is {len(data) / 1_000_000:.1f} MB as a Markdown file; a deck file "
                f"can be imported only up to {IMPORT_FILE_MAX // 1_000_000} MB.",
                "Nothing was exported. Remove some cards, or import its cards as two smaller decks.",
            )
        return texts.exported(info.name, deck, data)

    # -- making cards ---------------------------------------------------------------------------

    async def add_form(self, caller: Caller, name: str | None) -> Form:
        refuse(caller, deck_name=name)
        _in_workspace(caller)
        if not name or not name.strip():
            raise refusal("Which deck is the card for?", "For example: /deck add team-notes")
        infos = await self.store.deck_infos(caller.workspace_id)
        found = match_deck(infos, name)
        if found is not None and found.workspace_id is None:
            raise _bundled(found.name)
        if found is None:
            if not caller.is_admin:
                raise refusal(
                    f"There is no deck called “{echo(name)}” here.",
                    "Decks of this workspace: "
                    + (", ".join(d.name for d in infos if d.workspace_id) or "none yet")
                    + ". See /decks.",
                )
            plain = _new_name(name)  # an admin's card starts a new deck of that name
            return texts.card_form(CardForm(plain).id, plain, new=True)
        return texts.card_form(CardForm(found.name).id, found.name)

    def card_from_message(self, caller: Caller, text: str) -> Form | Message:
        """The "make a card" form with a chat message as its answer, the deck asked in the form."""
        problem = refused_text(caller, text)
        if problem is not None:
            return problem
        if caller.in_dm:
            return _NEEDS_WORKSPACE
        return texts.card_form(CardForm().id, None, answer=text.strip(), ask_deck=True, admin=caller.is_admin)

    async def submit_card(self, caller: Caller, deck: str | None, values: FormValues) -> Message:
        """A filled-in card: an admin's goes into the deck, a member's to the review queue."""
        refuse(caller, **{k: v for k, v in values.items() if k in texts.CARD_FIELDS})
        _in_workspace(caller)
        name = (deck or values.get(texts.DECK_FIELD, "")).strip() or None
        raw = _raw(values)
        if caller.is_admin and name is not None:
            info = await self._add_card(caller, name, raw)
            return texts.card_added(info.name, raw.question)
        # A member's card, or an admin's with no deck named (a form's role can be unknown when it opens,
        # and a submitted Discord modal cannot be answered with the form again): queued, not lost.
        _check_card(raw, "new")  # a card that could never be approved is refused now, not at review
        infos = await self.store.deck_infos(caller.workspace_id)
        target = match_deck(infos, name) if name else None
        if target is not None and target.workspace_id is None:
            raise _bundled(target.name)
        me = await who(self.store, caller)
        queued = await self.store.suggest_card(
            Suggestion(
                id=0,
                workspace_id=caller.workspace_id,
                member_id=me.member.id,
                suggester=me.member.display_name or caller.user_ref,
                deck_id=target.id if target is not None else None,
                question=raw.question,
                answer=raw.answer,
                followup_question=raw.followup_question,
                followup_answer=raw.followup_answer,
                status=SuggestionStatus.PENDING,
                created_at=self.clock.now(),
            ),
            PENDING_PER_MEMBER,
        )
        if queued is None:
            raise refusal(
                f"You have {PENDING_PER_MEMBER} cards waiting for review already.",
                "Send more once an admin has reviewed them.",
            )
        if caller.is_admin:
            return texts.kept_for_review()
        return texts.suggested(target.name if target is not None else None)

    async def _add_card(self, caller: Caller, name: str, raw: RawCard) -> DeckInfo:
        """Add one card (and its follow-up) to a workspace deck, starting the deck if it is new. Never
        replaces a deck: a new deck is started only if no deck has that name (else the card joins it)."""
        infos = await self.store.deck_infos(caller.workspace_id)
        found = match_deck(infos, name)
        if found is None:
            plain = _new_name(name)
            deck_id = workspace_deck_id(caller.workspace_id, plain)
            card = _check_card(raw, deck_id)
            me = await who(self.store, caller)
            deck = Deck(id=deck_id, title=plain, cards=card.cards, source="chat")
            started = await self.store.create_workspace_deck(
                caller.workspace_id,
                plain,
                deck,
                me.member.display_name,
                self.clock.now(),
                WORKSPACE_DECKS_MAX,
            )
            if started is None:
                raise _too_many_decks("The card was not added.")
            if started:
                return DeckInfo(deck_id, plain, plain, caller.workspace_id, me.member.display_name, None)
            # Another admin started it this moment: the card joins it.
            infos = await self.store.deck_infos(caller.workspace_id)
            found = next((d for d in infos if d.id == deck_id), None)
            if found is None:
                raise refusal(f"The deck “{plain}” changed meanwhile.", "Send the card again.")
        if found.workspace_id is None:
            raise _bundled(found.name)
        current = await self.store.deck_cards(found.id)
        existing = current.cards if current is not None else ()
        card = _check_card(raw, found.id)
        if any(c.key == card.cards[0].key for c in existing):
            raise refusal(
                f"The deck “{found.name}” already has that question.", "Change the question, or leave it out."
            )
        if len(existing) + len(card.cards) > CARDS_MAX:
            raise refusal(f"The deck “{found.name}” is full: a deck can have at most {CARDS_MAX:,} cards.")
        number = max((c.number for c in existing), default=0) + 1
        numbered = tuple(dataclasses.replace(c, number=number) for c in card.cards)
        await self.store.add_cards(found.id, numbered)
        return found

    # -- reviewing suggestions ------------------------------------------------------------------

    async def review(self, caller: Caller) -> Message:
        refuse(caller)
        _admin_only(caller, "review suggested cards")
        pending = await self.store.pending_suggestions(caller.workspace_id, REVIEW_SHOWN + 50)
        infos = await self.store.deck_infos(caller.workspace_id)
        return texts.review(pending[:REVIEW_SHOWN], len(pending), {d.id: d.name for d in infos})

    async def on_suggestion(self, caller: Caller, suggestion_id: int, verb: str) -> Form | Message:
        refuse(caller)
        _admin_only(caller, "review suggested cards")
        suggestion = await self._pending(caller, suggestion_id)
        if verb == "reject":
            if not await self.store.decide_suggestion(
                suggestion.id,
                SuggestionStatus.REJECTED,
                caller.display_name or caller.user_ref,
                self.clock.now(),
            ):
                raise _decided_meanwhile()
            return await self._then_next(caller, f"Rejected the card from {suggestion.suggester}.")
        infos = await self.store.deck_infos(caller.workspace_id)
        own = [d for d in infos if d.workspace_id is not None]
        by_id = {d.id: d.name for d in own}
        deck = by_id.get(suggestion.deck_id or "") or (own[0].name if len(own) == 1 else "")
        return texts.approve_form(SuggestionForm(suggestion.id).id, suggestion, deck, edit=verb == "edit")

    async def submit_suggestion(self, caller: Caller, suggestion_id: int, values: FormValues) -> Message:
        refuse(caller, **{k: v for k, v in values.items() if k in texts.CARD_FIELDS})
        _admin_only(caller, "review suggested cards")
        suggestion = await self._pending(caller, suggestion_id)
        name = values.get(texts.DECK_FIELD, "").strip()
        if not name:
            raise refusal(
                "Which deck does the card go into?", "Fill in a deck's name (a new name starts a deck)."
            )
        merged = {
            texts.QUESTION_FIELD: suggestion.question,
            texts.ANSWER_FIELD: suggestion.answer,
            texts.FOLLOWUP_QUESTION_FIELD: suggestion.followup_question,
            texts.FOLLOWUP_ANSWER_FIELD: suggestion.followup_answer,
            **{k: v for k, v in values.items() if k != texts.DECK_FIELD},
        }
        raw = _raw(merged)
        _check_card(raw, "new")  # refused before the decision is claimed, as much as can be
        target = match_deck(await self.store.deck_infos(caller.workspace_id), name)
        if target is not None and target.workspace_id is None:
            raise _bundled(target.name)
        # Claim the decision first, so an admin rejecting it this moment cannot be overruled by a card
        # already added; it is pending again if the card is refused after all.
        if not await self.store.decide_suggestion(
            suggestion.id,
            SuggestionStatus.APPROVED,
            caller.display_name or caller.user_ref,
            self.clock.now(),
            target.id if target is not None else workspace_deck_id(caller.workspace_id, _new_name(name)),
        ):
            raise _decided_meanwhile()
        try:
            info = await self._add_card(caller, name, raw)
        except Exception:
            await self.store.reopen_suggestion(suggestion.id, suggestion.deck_id)
            raise
        return await self._then_next(caller, f"Added the card from {suggestion.suggester} to “{info.name}”.")

    async def _pending(self, caller: Caller, suggestion_id: int) -> Suggestion:
        suggestion = await self.store.get_suggestion(suggestion_id)
        if suggestion is None or suggestion.workspace_id != caller.workspace_id:
            raise refusal("That suggestion no longer exists.", "Use /deck review.")
        if suggestion.status is not SuggestionStatus.PENDING:
            raise refusal(
                f"That suggestion was {suggestion.status.value} already"
                + (f" by {suggestion.decided_by}." if suggestion.decided_by else "."),
                "Use /deck review for the next one.",
            )
        return suggestion

    async def _then_next(self, caller: Caller, done: str) -> Message:
        following = await self.review(caller)
        return dataclasses.replace(following, title=f"{done} {following.title}")

    async def outcomes(self, caller: Caller) -> Message | None:
        """What admins decided on the caller's suggestions since they were last told, or None."""
        told = await self.store.take_outcomes(caller.workspace_id, caller.user_ref, self.clock.now())
        if not told:
            return None
        infos = await self.store.deck_infos(caller.workspace_id)
        return texts.outcomes(told, {d.id: d.name for d in infos})

    # -- removing -------------------------------------------------------------------------------

    async def remove(self, caller: Caller, name: str | None) -> Message:
        refuse(caller, deck_name=name)
        _admin_only(caller, "remove decks")
        info = await self._deck(caller, name)
        if info.workspace_id is None:
            raise refusal(
                f"“{info.name}” is a bundled deck: it cannot be removed from chat.",
                "Bundled decks come from the bot's content folder; whoever runs the bot can remove the file.",
            )
        return texts.confirm_remove(info.name, RemoveDeck(info.name).id)

    async def remove_confirmed(self, caller: Caller, name: str) -> Message:
        refuse(caller)
        _admin_only(caller, "remove decks")
        deck_id = workspace_deck_id(caller.workspace_id, name)
        if not await self.store.retire_workspace_deck(caller.workspace_id, deck_id, self.clock.now()):
            raise refusal(f"There is no deck called “{echo(name)}” here any more.", "See /decks.")
        return texts.removed(name)

    async def _deck(self, caller: Caller, name: str | None) -> DeckInfo:
        if not name or not name.strip():
            raise refusal("Which deck?", "Name one of the decks /decks lists.")
        infos = await self.store.deck_infos(caller.workspace_id)
        found = match_deck(infos, name)
        if found is None:
            raise refusal(
                f"There is no deck called “{echo(name)}”.",
                f"Decks: {', '.join(d.name for d in infos) or 'none loaded'}. See /decks.",
            )
        return found


def refused_text(caller: Caller, text: str) -> Message | None:
    if problem := refused(caller, message=text):
        return problem
    if not text.strip():
        return error("That message has no text to make a card from.", "Pick a message with text in it.")
    return None


_NEEDS_WORKSPACE = error(
    "Cards are made in a server, not in a direct message.",
    "Use “Make a study card” or /deck add in a server channel: the card goes into that server's decks.",
)


def _in_workspace(caller: Caller) -> None:
    """Refuse a deck's card in a DM: it would wait for a review no admin can give."""
    if caller.in_dm:
        raise Refusal(_NEEDS_WORKSPACE)


def _admin_only(caller: Caller, what: str) -> None:
    if not caller.is_admin:
        raise refusal(
            f"Only admins can {what}.",
            "Ask someone who can manage this server (Discord: Manage Server) or a workspace admin (Slack).",
        )


def _bundled(name: str) -> Exception:
    return refusal(
        f"“{name}” is a bundled deck: its cards come from the bot's content folder.",
        "Add the card to one of this workspace's decks, or give a new deck's name to start one.",
    )


def _decided_meanwhile() -> Exception:
    return refusal("Someone already decided that suggestion.", "Use /deck review for the next one.")


def _too_many_decks(nothing_done: str) -> Exception:
    return refusal(
        f"This workspace has {WORKSPACE_DECKS_MAX} decks already, the most it can have.",
        f"{nothing_done} Remove one with /deck remove DECK first.",
    )


def _new_name(typed: str) -> str:
    """A new deck's name from what an admin typed, made as a file's name is (bot/core/decks/workspace.py);
    only once `match_deck` found no deck by that text or by this name."""
    plain = deck_name(typed.strip())
    if not plain:
        raise refusal("A deck's name needs a letter or a digit.", "For example: /deck add team-notes")
    return plain


def _raw(values: FormValues) -> RawCard:
    return RawCard(
        1,
        values.get(texts.QUESTION_FIELD, ""),
        values.get(texts.ANSWER_FIELD, ""),
        values.get(texts.FOLLOWUP_QUESTION_FIELD, ""),
        values.get(texts.FOLLOWUP_ANSWER_FIELD, ""),
    )


def _check_card(raw: RawCard, deck_id: str) -> Deck:
    """The card (and follow-up) as an imported deck would hold it, checked the same way, or refused."""
    builder = DeckBuilder("card", deck_id, what="card")
    builder.add(raw)
    built = builder.build(deck_id)
    if isinstance(built, list):
        raise refusal(
            "That card cannot be saved: " + "; ".join(p.message for p in built[:3]) + ".",
            "Change it and send it again.",
        )
    assert built.cards and built.cards[0].kind is CardKind.MAIN
    return built
