"""Core replies as Block Kit. Every piece of core text is escaped here, so deck text can't mention anyone."""

from __future__ import annotations

import functools
import re
from typing import Any

from bot.core import cardtext
from bot.core.commands import names
from bot.core.messages import Form, Message, Section, Style

Block = dict[str, Any]

SECTION_LIMIT = 3000  # characters in a section's text
MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
ACTIONS_LIMIT = 25  # elements in one actions block
BUTTON_TEXT_LIMIT = 75
ACTION_ID_LIMIT = 255
VALUE_LIMIT = 2000
FALLBACK_LIMIT = 3000
MODAL_TITLE_LIMIT = 24
INPUT_LIMIT = 3000  # plain_text_input max_length

ANSWER_CALLBACK = "answer"  # every form's callback id: the form itself is named in private_metadata
ANSWER_BLOCK = "answer"  # the answer form's field (core ANSWER_FIELD)
ANSWER_INPUT = "text"  # the action id of every text box


# The core names its commands as Discord does (/quiz); on Slack they are subcommands of one command.
def _commands() -> re.Pattern[str]:
    return _command_pattern(tuple(names()))


@functools.cache
def _command_pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"(?<![\w/<])/(" + "|".join(map(re.escape, names)) + r")\b")


_STYLES = {Style.PRIMARY: "primary", Style.DANGER: "danger"}
# The core names channels as `<#C0123>`; a channel link notifies nobody, so that one form is let through.
_CHANNEL_LINK = re.compile(r"&lt;#([CG][A-Z0-9]{2,40})&gt;")


def escape(text: str) -> str:
    """Slack's three control characters; with them escaped, `<!channel>` and `<@U1>` are just text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SlackMrkdwn(cardtext.Dialect):
    """Slack's mrkdwn. Slack has no escape for its formatting characters, so where one could open or close
    a style in literal text, a zero-width space beside it keeps it literal."""

    bullet = "•"

    def __init__(self, command: str = "/study") -> None:
        self.command = command

    def text(self, text: str, line_start: bool) -> str:
        text = _commands().sub(lambda m: f"{self.command} {m.group(1)}", text)
        text = _CHANNEL_LINK.sub(r"<#\1>", escape(text))
        text = _FORMAT_RUN.sub(_inert, text)
        return ZWSP + text if line_start and text.startswith("&gt;") else text  # not a quote

    def code(self, code: str) -> str:
        # Nothing can escape a backtick inside code on Slack: show a look-alike.
        return f"`{escape(code).replace('`', 'ˋ')}`" if code else ""

    def strong(self, inner: str) -> str:
        return f"*{inner}*" if inner.strip() else inner

    def emph(self, inner: str) -> str:
        return f"_{inner}_" if inner.strip() else inner

    def strike(self, inner: str) -> str:
        return f"~{inner}~" if inner.strip() else inner

    def link(self, label: str, href: str) -> str:
        if not _LINKABLE.match(href):
            return f"{label} ({self.text(href, False)})" if href else label
        target = escape(href).replace("|", "%7C")
        return f"<{target}>" if label == self.text(href, False) else f"<{target}|{label}>"

    def code_block(self, code: str, lang: str) -> str:
        return f"```\n{_BACKTICK_RUN.sub('`' + ZWSP, escape(code))}\n```"

    def heading(self, inner: str) -> str:
        return self.strong(inner)

    def rule(self) -> str:
        return "───"


ZWSP = "\u200b"
_FORMAT_RUN = re.compile(r"[*_~`]+")
_LINKABLE = re.compile(r"^(https?://|mailto:)", re.IGNORECASE)
_BACKTICK_RUN = re.compile(r"`(?=`)")


def _inert(match: re.Match[str]) -> str:
    """A run of formatting characters that could open or close a style, made literal: Slack only styles
    from a word's edge, and a zero-width space is not one."""
    text, start, end = match.string, match.start(), match.end()
    before = "" if start and text[start - 1].isalnum() else ZWSP
    after = "" if end < len(text) and text[end].isalnum() else ZWSP
    return before + ZWSP.join(match.group()) + after  # apart, ``` cannot open a code block


def mrkdwn(text: str, command: str = "/study") -> str:
    """Core text (plain, with **bold**) as escaped Slack mrkdwn."""
    return cardtext.render_core(text, SlackMrkdwn(command))


def section_mrkdwn(section: Section, command: str = "/study") -> str:
    if section.markdown:
        return cardtext.render(section.text, SlackMrkdwn(command))
    return mrkdwn(section.text, command)


def plain(text: str, command: str = "/study") -> str:
    """Core text for plain_text fields and notifications: commands translated."""
    return _commands().sub(lambda m: f"{command} {m.group(1)}", text)


def _text(text: str, kind: str = "mrkdwn") -> Block:
    if kind == "mrkdwn":
        # verbatim: Slack must not turn "@channel" or "#general" into mentions or links by itself.
        return {"type": "mrkdwn", "text": text, "verbatim": True}
    return {"type": "plain_text", "text": text or " ", "emoji": True}


def _cut(text: str, limit: int) -> int:
    """Where to cut escaped text at most `limit` long: at a newline or space if one is near, never
    inside an entity such as `&amp;`."""
    cut = limit
    for sep in ("\n", " "):
        at = text.rfind(sep, 0, limit)
        if at >= limit // 2:
            cut = at
            break
    amp = text.rfind("&", max(0, cut - 5), cut)
    if amp != -1 and ";" not in text[amp:cut]:
        cut = amp
    return max(cut, 1)


def split_text(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Escaped text in pieces that each fit one section; a code block cut in two is closed and reopened."""
    fenced = "```" in text
    room = limit - 8 if fenced else limit
    pieces: list[str] = []
    while len(text) > room:
        cut = _cut(text, room)
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip("\n ")
    if text.strip() or not pieces:
        pieces.append(text)
    if fenced:
        for i in range(len(pieces) - 1):
            if pieces[i].count("```") % 2:
                pieces[i] += "\n```"
                pieces[i + 1] = "```\n" + pieces[i + 1]
    return pieces


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _section(text: str) -> Block:
    return {"type": "section", "text": _text(text)}


def buttons(message: Message) -> list[Block]:
    """Actions blocks: `value` carries the core action id; `action_id` is the same id, made unique."""
    elements: list[Block] = []
    seen: set[str] = set()
    for number, action in enumerate(message.actions):
        action_id = action.id[:ACTION_ID_LIMIT]
        if action_id in seen:
            action_id = f"{action.id[: ACTION_ID_LIMIT - 6]}#{number}"
        seen.add(action_id)
        button: Block = {
            "type": "button",
            "text": _text(truncate(action.label, BUTTON_TEXT_LIMIT), "plain_text"),
            "action_id": action_id,
            "value": action.id[:VALUE_LIMIT],
        }
        if action.style in _STYLES:
            button["style"] = _STYLES[action.style]
        elements.append(button)
    return [
        {"type": "actions", "elements": elements[i : i + ACTIONS_LIMIT]}
        for i in range(0, len(elements), ACTIONS_LIMIT)
    ]


def message_blocks(
    message: Message, command: str = "/study", limit: int = MESSAGE_BLOCK_LIMIT
) -> list[Block]:
    """Title, one section per core section (split when long), footer as context, buttons as actions."""
    title = ("⚠️ " if message.is_error else "") + SlackMrkdwn(command).text(message.title, True)
    blocks: list[Block] = [_section(truncate(f"*{title}*", SECTION_LIMIT))]
    for section in message.sections:
        text = section_mrkdwn(section, command)
        if section.heading:
            text = f"*{SlackMrkdwn(command).text(section.heading, True)}*\n{text}"
        blocks.extend(_section(piece) for piece in split_text(text))
    tail: list[Block] = []
    if message.footer:
        tail.append({"type": "context", "elements": [_text(truncate(mrkdwn(message.footer, command), 3000))]})
    tail.extend(buttons(message))
    room = max(limit - len(tail), 2)
    if len(blocks) > room:
        blocks = blocks[: room - 1]
        blocks.append({"type": "context", "elements": [_text("(shortened: too long for one Slack message)")]})
    return blocks + tail


def fallback_text(message: Message, command: str = "/study") -> str:
    """The notification text: the whole message as escaped plain text."""
    return truncate(_CHANNEL_LINK.sub(r"<#\1>", escape(plain(message.plain_text(), command))), FALLBACK_LIMIT)


def form_modal(form: Form, private_metadata: str, command: str = "/study") -> Block:
    """A core form as a modal: one input block per field, its block id the field's name. It comes back as
    a view_submission with callback "answer", every form's, so modals opened before an upgrade still work."""
    blocks: list[Block] = []
    if form.context:
        shown = cardtext.render(form.context, SlackMrkdwn(command))
        blocks.extend(_section(piece) for piece in split_text(shown)[:5])
    for field in form.fields:
        limit = max(1, min(field.max_length, INPUT_LIMIT))
        element: Block = {
            "type": "plain_text_input",
            "action_id": ANSWER_INPUT,
            "multiline": field.multiline,
            "max_length": limit,
        }
        if field.required:
            element["min_length"] = 1
        if field.value:
            element["initial_value"] = field.value[:limit]
        if field.placeholder:
            element["placeholder"] = _text(truncate(plain(field.placeholder, command), 150), "plain_text")
        blocks.append(
            {
                "type": "input",
                "block_id": field.name,
                "optional": not field.required,
                "label": _text(truncate(plain(field.label, command), 2000), "plain_text"),
                "element": element,
            }
        )
    return {
        "type": "modal",
        "callback_id": ANSWER_CALLBACK,
        "private_metadata": private_metadata,
        "title": _text(truncate(plain(form.title, command), MODAL_TITLE_LIMIT), "plain_text"),
        "submit": _text("Send", "plain_text"),
        "close": _text("Cancel", "plain_text"),
        "blocks": blocks,
    }


def home_view(parts: list[Message], command: str = "/study") -> Block:
    """The App Home tab: the member's messages one after another, without their buttons."""
    blocks: list[Block] = [
        {"type": "header", "text": _text("studybot", "plain_text")},
        {
            "type": "context",
            "elements": [_text(f"Type `{escape(command)} quiz` in any channel for your next question.")],
        },
    ]
    for message in parts:
        room = VIEW_BLOCK_LIMIT - len(blocks) - 1
        if room < 3:
            break
        blocks.append({"type": "divider"})
        bare = Message(
            title=message.title, sections=message.sections, footer=message.footer, is_error=message.is_error
        )
        blocks.extend(message_blocks(bare, command, limit=room))
    return {"type": "home", "blocks": blocks}
