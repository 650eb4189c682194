"""A core Message as a Discord embed plus buttons; a core Form as a modal. Translation only."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import discord

from bot.core.messages import Form, Message, Style

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


def markdown(text: str) -> str:
    """Core text (plain, with **bold** as the only markup) as Discord markdown: everything else escaped."""
    parts = text.split("**")
    if len(parts) % 2 == 0:  # an unpaired ** stays literal
        last = parts.pop()
        parts[-1] += "**" + last
    out = []
    for i, part in enumerate(parts):
        escaped = discord.utils.escape_markdown(part)
        out.append(f"**{escaped}**" if i % 2 and part.strip() else escaped)
    return "".join(out)


def embed_for(message: Message) -> discord.Embed:
    colour = discord.Colour.red() if message.is_error else discord.Colour.blurple()
    title = clip(message.title.replace("**", ""), TITLE_LIMIT)
    footer = clip(message.footer, FOOTER_LIMIT) if message.footer else ""
    budget = EMBED_TOTAL_LIMIT - len(title) - len(footer)
    plain = [markdown(s.text) for s in message.sections if not s.heading]
    fields = [
        (clip(s.heading or "", FIELD_NAME_LIMIT), markdown(s.text)) for s in message.sections if s.heading
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
            (f"**{discord.utils.escape_markdown(s.heading)}**\n" if s.heading else "") + markdown(s.text)
            for s in message.sections
        )
        description = clip(description, min(DESCRIPTION_LIMIT, budget))
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
    from bot.adapters.discord.components import ActionButton

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
TEXT_INPUT_ID = "text"


def modal_for(form: Form) -> discord.ui.Modal:
    """A modal whose custom id carries the core's form id; submissions are handled by custom id, not by this
    object, so a modal opened before a restart still works (see components.handle_modal_submit)."""
    modal = discord.ui.Modal(
        title=clip(form.title, MODAL_TITLE_LIMIT), custom_id=clip(FORM_PREFIX + form.id, CUSTOM_ID_LIMIT)
    )
    if form.context:
        modal.add_item(discord.ui.TextDisplay(clip(markdown(form.context), TEXT_DISPLAY_LIMIT)))
    text_input: discord.ui.TextInput[discord.ui.Modal] = discord.ui.TextInput(
        style=discord.TextStyle.paragraph,
        custom_id=TEXT_INPUT_ID,
        placeholder=clip(form.placeholder, PLACEHOLDER_LIMIT) or None,
        max_length=max(1, min(form.max_length, TEXT_INPUT_LIMIT)),
        required=True,
    )
    modal.add_item(discord.ui.Label(text=clip(form.label, LABEL_LIMIT), component=text_input))
    return modal
