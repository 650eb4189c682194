"""Refusals: the one exception a service raises when it will not do what was asked.

A service raises `Refusal` where it finds the problem, carrying the error to show; the StudyService facade
catches it and replies with the message, so a service's happy path reads straight through.
"""

from __future__ import annotations

from bot.core.messages import Message, error
from bot.core.model.models import Caller
from bot.core.model.typed_text import (
    CHANNEL_REF_LIMIT,
    USER_REF_LIMIT,
    WORKSPACE_ID_LIMIT,
    refused_character,
)


class Refusal(Exception):
    """The request is refused; `message` says why, to the person who sent it."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.title)
        self.message = message


def refusal(text: str, hint: str | None = None) -> Refusal:
    """A refusal with an error message: `raise refusal("That deck does not exist.", "See /decks.")`."""
    return Refusal(error(text, hint))


def refuse(caller: Caller | None = None, /, **fields: str | None) -> None:
    """Raise a Refusal for the first field (or caller id) that cannot be stored; see `refused`."""
    message = refused(caller, **fields)
    if message is not None:
        raise Refusal(message)


def refused(caller: Caller | None = None, /, **fields: str | None) -> Message | None:
    """The error for the first field that cannot be stored, or None. A field's keyword is its name in the
    reply (`team_name` → "team name"); the caller's ids are checked too."""
    for key, value in fields.items():
        what = refused_character(value) if value else None
        if what is not None:
            label = key.replace("_", " ")
            return error(f"The {label} you sent contains {what}, which I can't store.", _REMOVE_IT)
    if caller is None:
        return None
    ids = (
        ("user id", caller.user_ref, USER_REF_LIMIT),
        ("server or workspace id", caller.workspace_id, WORKSPACE_ID_LIMIT),
        ("channel id", caller.channel_ref or "", CHANNEL_REF_LIMIT),
    )
    for label, value, limit in ids:
        what = refused_character(value)
        if what is not None:
            return error(f"Your {label} contains {what}, which I can't store.", _ASK_ADMIN)
        if len(value) > limit:
            return error(f"Your {label} is {len(value)} characters long; I can store {limit}.", _ASK_ADMIN)
    return None


_REMOVE_IT = "Remove that character and send it again."
_ASK_ADMIN = "Use another name, or ask whoever runs the bot."
