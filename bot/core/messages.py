"""Platform-neutral replies: text parts plus actions. Adapters render them as embeds, Block Kit or text."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from bot.core import cardtext

_PLAIN = cardtext.Dialect()


class Style(enum.StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    SUCCESS = "success"
    DANGER = "danger"


@dataclass(frozen=True)
class Action:
    """A button. `id` carries everything needed to act on it later, e.g. `grade:42:good`."""

    id: str
    label: str
    style: Style = Style.SECONDARY


@dataclass(frozen=True)
class Section:
    """A block of text with an optional plain heading.

    Text is core wording, plain with **bold** as the only markup; or, with `markdown`, card Markdown
    (anything else put into it goes through cardtext.escape first).
    """

    text: str
    heading: str | None = None
    markdown: bool = False

    def plain_text(self) -> str:
        return cardtext.plain(self.text) if self.markdown else cardtext.render_core(self.text, _PLAIN)


@dataclass(frozen=True)
class Upload:
    """A file a member sent, already fetched by the adapter (from the platform's own file host, with its
    size capped before reading). `name` is the file name as the member gave it."""

    name: str
    data: bytes


@dataclass(frozen=True)
class Attachment:
    """A file sent with a reply (a deck export, a stats picture): a Discord attachment, a Slack upload,
    a file under the data directory in the terminal."""

    filename: str
    data: bytes
    content_type: str
    description: str = ""  # alt text, and what the terminal prints beside the path


@dataclass(frozen=True)
class Message:
    title: str
    sections: tuple[Section, ...] = ()
    actions: tuple[Action, ...] = ()
    private: bool = True
    is_error: bool = False
    footer: str | None = None
    files: tuple[Attachment, ...] = ()

    def plain_text(self) -> str:
        """The whole message as text (used by the terminal and as a notification fallback)."""
        lines = [self.title]
        for section in self.sections:
            if section.heading:
                lines.append(f"{section.heading}:")
            lines.append(section.plain_text())
        if self.footer:
            lines.append(self.footer)
        return "\n".join(lines)


@dataclass(frozen=True)
class Field:
    """One text box of a form. `name` is the key its text comes back under."""

    name: str
    label: str
    max_length: int
    value: str = ""  # filled in already (the message a card is made from)
    placeholder: str = ""
    required: bool = True
    multiline: bool = True


@dataclass(frozen=True)
class Form:
    """A request to open a form of text boxes (Discord modal, Slack modal, terminal prompts).

    Submitting it goes back to the core as `StudyService.submit(caller, form.id, values)`, the values
    keyed by field name. Discord allows at most 5 fields.
    """

    id: str
    title: str
    fields: tuple[Field, ...]
    context: str = ""  # card Markdown shown above the text boxes


FormValues = Mapping[str, str]


def error(text: str, hint: str | None = None) -> Message:
    sections = (Section(hint),) if hint else ()
    return Message(title=text, sections=sections, private=True, is_error=True)


Reply = Message | Form
