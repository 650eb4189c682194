"""Buttons and form submissions that keep working after a restart: everything is in the custom id."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

import discord

# Any core action id (`reveal:42`, `grade:42:good`, `next`, `daily:7`): bot/core/actions.py owns and reads
# them, so a new one needs no change here. The only components this bot sends are core actions.
ACTION_TEMPLATE = r"(?P<action>[a-z][a-z_-]{0,31}(?::\S{0,98})?)"


@runtime_checkable
class Clickable(Protocol):
    """The client a button's click goes to (the studybot clients are)."""

    async def clicked(self, interaction: discord.Interaction[Any], action_id: str) -> None: ...


class ActionButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=ACTION_TEMPLATE,
):
    """A button for one core action. Rebuilt from its custom id on every click, so no view is stored."""

    def __init__(
        self,
        action_id: str,
        *,
        label: str | None = None,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
        row: int | None = None,
    ) -> None:
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=action_id), row=row)
        self.action_id = action_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[discord.Client],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ActionButton:
        label = getattr(item, "label", None)
        style = getattr(item, "style", discord.ButtonStyle.secondary)
        return cls(match["action"], label=label, style=style)

    async def callback(self, interaction: discord.Interaction[discord.Client]) -> None:
        client = interaction.client
        if not isinstance(client, Clickable):
            raise TypeError(f"not a studybot client: {client!r}")
        await client.clicked(interaction, self.action_id)


def submitted_values(components: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """The text inputs of a modal submission by custom id, whether they came in labels or action rows."""
    values: dict[str, str] = {}
    for component in components:
        if "custom_id" in component and "value" in component:
            values[str(component["custom_id"])] = str(component["value"])
        children: list[Mapping[str, Any]] = list(component.get("components") or [])
        if "component" in component:
            children.append(component["component"])
        values.update(submitted_values(children))
    return values
