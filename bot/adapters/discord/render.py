"""A core Message as a Discord embed plus buttons; a core Form as a modal. Translation only."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import discord

from bot.adapters.discord.components import ActionButton
from bot.core import cardtext
from bot.core.messages import Form, Message, Section, Style

log = logging.getLogger(__name__)

# Discord's documented limits.
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FIELD_COUNT_LIMIT = 25
FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000
BUTTON_LABEL_LIMIT = 80
CUSTOM_ID_LIMIT = 100
BUTTONS_PER_ROW = 5
BUTTON_LIMIT = 25
MODAL_TITLE_LIMIT = 45
LABEL_LIMIT = 45
PLACEHOLDER_LIMIT = 100
TEXT_INPUT_LIMIT = 4000
TEXT_DISPLAY_LIMIT = 4000

# Nobody is ever pinged, whatever a deck or an answer contains.
NO_PINGS = discord.AllowedMentions.none()

BUTTON_STYLES = {
    Style.PRIMARY: discord.ButtonStyle.primary,
    Style.SECONDARY: discord.ButtonStyle.secondary,
    Style.SUCCESS: discord.ButtonStyle.success,
    Style.DANGER: discord.ButtonStyle.danger,
}


def clip(text: str, limit: int) -> str:
    """Cut to Discord's limit with an ellipsis, never in the middle of nothing."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class DiscordMarkdown(cardtext.Dialect):
    """Discord's Markdown. Literal text is backslash-escaped (Discord drops a backslash before any
    punctuation), so deck or member text can neither format itself nor show as a mention."""

    def text(self, text: str, line_start: bool) -> str:
        out = []
        for i, piece in enumerate(_URL.split(text)):
            if i % 2:  # a bare link or a channel: shown as written, escapes would break it
                out.append(piece)
                continue
            piece = _SPECIAL.sub(r"\\\g<0>", piece)
            if line_start and i == 0:
                piece = _LINE_START.sub(r"\g<lead>\\\g<mark>", piece)
            out.append(piece)
        return "".join(out)

    def code(self, code: str) -> str:
        if not code:
            return ""
        if "`" not in code:
            return f"`{code}`"
        code = _BACKTICK_RUN.sub("`\u200b", code)  # no run of two: a `` fence can hold it
        return f"`` {code} ``"

    def strong(self, inner: str) -> str:
        return f"**{inner}**" if inner.strip() else inner

    def emph(self, inner: str) -> str:
        return f"*{inner}*" if inner.strip() else inner

    def strike(self, inner: str) -> str:
        return f"~~{inner}~~" if inner.strip() else inner

    def link(self, label: str, href: str) -> str:
        if not _WEB_LINK.match(href):
            return f"{label} ({self.text(href, False)})" if href else label
        if label == self.text(href, False):
            return href
        return f"[{label}]({_LINK_UNSAFE.sub(lambda m: f'%{ord(m.group()):02X}', href)})"

    def code_block(self, code: str, lang: str) -> str:
        lang = lang if _LANG.match(lang) else ""
        code = _BACKTICK_RUN.sub("`\u200b", code)  # a ``` inside would end the block
        return f"```{lang}\n{code}\n```"

    def heading(self, inner: str) -> str:
        return self.strong(inner)

    def rule(self) -> str:
        return "───"


DISCORD = DiscordMarkdown()
_SPECIAL = re.compile(r"[\\*_~|`<\[\]]")  # `<` starts mentions, channels, emoji and timestamps
# Headings, lists, quotes and subtext only start a line.
_LINE_START = re.compile(r"^(?P<lead>[ \t]*\d*)(?P<mark>[-+>.)#])")
# A channel link notifies nobody; the core names channels that way.
_URL = re.compile(r"(https?://[^\s<>]+|<#\d{1,20}>)")
_WEB_LINK = re.compile(r"^https?://", re.IGNORECASE)
_LINK_UNSAFE = re.compile(r"[()<>\s]")
_BACKTICK_RUN = re.compile(r"`(?=`)")
_LANG = re.compile(r"^[\w+#.-]{1,20}$")


def markdown(text: str) -> str:
    """Core text (plain, with **bold** as the only markup) as Discord markdown: everything else escaped."""
    return cardtext.render_core(text, DISCORD)


def section_markdown(section: Section) -> str:
    if section.markdown:
        return cardtext.render(section.text, DISCORD)
    return markdown(section.text)


def clip_markdown(text: str, limit: int) -> str:
    """Clip, and close a code block the cut left open so the rest does not show as code."""
    if len(text) <= limit:
        return text
    clipped = clip(text, limit - 4)
    return clipped + "\n```" if clipped.count("```") % 2 else clipped


def embed_for(message: Message) -> discord.Embed:
    colour = discord.Colour.red() if message.is_error else discord.Colour.blurple()
    title = clip(DISCORD.text(message.title, True), TITLE_LIMIT)
    footer = clip(message.footer, FOOTER_LIMIT) if message.footer else ""
    budget = EMBED_TOTAL_LIMIT - len(title) - len(footer)
    plain = [section_markdown(s) for s in message.sections if not s.heading]
    fields = [
        (clip(DISCORD.text(s.heading or "", True), FIELD_NAME_LIMIT), section_markdown(s))
        for s in message.sections
        if s.heading
    ]
    description = "\n\n".join(plain)
    as_fields = (
        # Plain text first then headed sections keeps the core's order (description shows above fields).
        all(not s.heading for s in message.sections[: len(plain)])
        and len(fields) <= FIELD_COUNT_LIMIT
        and all(len(value) <= FIELD_VALUE_LIMIT for _name, value in fields)
        and len(description) + sum(len(n) + len(v) for n, v in fields) <= budget
        and len(description) <= DESCRIPTION_LIMIT
    )
    embed = discord.Embed(title=title, colour=colour)
    if as_fields:
        for name, value in fields:
            embed.add_field(name=name, value=value or "\u200b", inline=False)
    else:  # long answers read better whole in the description than cut at 1024 characters
        description = "\n\n".join(
            (f"**{DISCORD.text(s.heading, True)}**\n" if s.heading else "") + section_markdown(s)
            for s in message.sections
        )
        description = clip_markdown(description, min(DESCRIPTION_LIMIT, budget))
    if description:
        embed.description = description
    if footer:
        embed.set_footer(text=footer)
    return embed


@dataclass(frozen=True)
class Rendered:
    embed: discord.Embed
    view: discord.ui.View | None


def render(message: Message) -> Rendered:
    """The embed and a view of action buttons (None when the message has no actions)."""
    buttons: list[ActionButton] = []
    for action in message.actions:
        if len(action.id) > CUSTOM_ID_LIMIT:
            log.warning("action id too long for a Discord button, left out: %r", action.id)
            continue
        if len(buttons) == BUTTON_LIMIT:
            log.warning("more than %d actions, the rest are left out", BUTTON_LIMIT)
            break
        buttons.append(
            ActionButton(
                action.id,
                label=clip(action.label, BUTTON_LABEL_LIMIT),
                style=BUTTON_STYLES.get(action.style, discord.ButtonStyle.secondary),
                row=len(buttons) // BUTTONS_PER_ROW,
            )
        )
    view = None
    if buttons:
        view = discord.ui.View(timeout=None)  # every button is a DynamicItem: nothing to keep in memory
        for button in buttons:
            view.add_item(button)
    return Rendered(embed_for(message), view)


FORM_PREFIX = "form:"
MODAL_FIELD_LIMIT = 5  # Discord's most components in a modal


def modal_for(form: Form) -> discord.ui.Modal:
    """A modal whose custom id carries the core's form id; submissions are handled by custom id, not by this
    object, so a modal opened before a restart still works (see components.handle_modal_submit)."""
    modal = discord.ui.Modal(
        title=clip(form.title, MODAL_TITLE_LIMIT), custom_id=clip(FORM_PREFIX + form.id, CUSTOM_ID_LIMIT)
    )
    if form.context:
        shown = clip_markdown(cardtext.render(form.context, DISCORD), TEXT_DISPLAY_LIMIT)
        modal.add_item(discord.ui.TextDisplay(shown))
    for field in form.fields[: MODAL_FIELD_LIMIT - (1 if form.context else 0)]:
        limit = max(1, min(field.max_length, TEXT_INPUT_LIMIT))
        text_input: discord.ui.TextInput[discord.ui.Modal] = discord.ui.TextInput(
            style=discord.TextStyle.paragraph if field.multiline else discord.TextStyle.short,
            custom_id=field.name,
            placeholder=clip(field.placeholder, PLACEHOLDER_LIMIT) or None,
            default=field.value[:limit] or None,
            max_length=limit,
            required=field.required,
        )
        modal.add_item(discord.ui.Label(text=clip(field.label, LABEL_LIMIT), component=text_input))
    return modal
