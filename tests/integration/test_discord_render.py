"""Core messages as Discord embeds and buttons, within Discord's limits."""

from __future__ import annotations

import discord

from bot.adapters.discord.render import markdown, modal_for, render
from bot.core.messages import Action, Field, Form, Message, Section, Style


async def test_long_text_stays_within_discord_limits() -> None:
    long_answer = "word " * 2000
    message = Message(
        title="T" * 300,
        sections=(Section("Q?", "Question"), Section(long_answer, "Model answer")),
        actions=tuple(Action(f"grade:1:{i}", "L" * 100, Style.SUCCESS) for i in range(7)),
        footer="f" * 3000,
    )
    shown = render(message)
    embed = shown.embed
    assert len(embed.title or "") <= 256 and len(embed.footer.text or "") <= 2048
    assert len(embed.description or "") <= 4096 and len(embed) <= 6000
    assert "**Model answer**" in (embed.description or "")  # too long for a field: kept in the description
    assert shown.view is not None
    rows = shown.view.to_components()
    assert [len(r["components"]) for r in rows] == [5, 2]
    assert all(
        len(b["label"]) <= 80 and b["style"] == discord.ButtonStyle.success.value
        for r in rows
        for b in r["components"]
    )


async def test_short_sections_become_fields_and_actions_keep_their_ids() -> None:
    shown = render(
        Message(
            title="Answer",
            sections=(Section("lead"), Section("a", "Model answer")),
            actions=(Action("grade:7:good", "Good · 4d"),),
        )
    )
    assert shown.embed.description == "lead"
    assert [(f.name, f.value) for f in shown.embed.fields] == [("Model answer", "a")]
    assert shown.view is not None
    assert shown.view.to_components()[0]["components"][0]["custom_id"] == "grade:7:good"
    assert render(Message(title="No buttons")).view is None


def test_only_bold_survives_as_markdown() -> None:
    assert markdown("**ReLU** and learning_rate * 2 `x` ~~y~~ > q") == (
        r"**ReLU** and learning\_rate \* 2 \`x\` \~\~y\~\~ > q"
    )
    assert markdown("a ** b") == r"a \*\* b"


async def test_form_becomes_a_modal_capped_at_discords_limit() -> None:
    modal = modal_for(
        Form(id="answer:3", title="Your answer", fields=(Field("answer", "Write", 9000),), context="Q?")
    )
    payload = modal.to_dict()
    assert payload["custom_id"] == "form:answer:3"
    text_input = payload["components"][-1]["component"]
    assert text_input["max_length"] == 4000 and text_input["style"] == discord.TextStyle.paragraph.value


def test_network_trouble_is_worth_retrying() -> None:
    import aiohttp

    from bot.adapters.discord.poster import post_error
    from bot.schedule.poster import RetryablePostError

    for exc in (
        TimeoutError(),
        aiohttp.ServerTimeoutError(),
        aiohttp.ClientConnectionError(),
        OSError(104, "reset"),
    ):
        assert isinstance(post_error(exc, "#study"), RetryablePostError)


async def test_many_full_fields_fall_back_to_one_description() -> None:
    sections = tuple(Section("x" * 1000, f"Part {i}") for i in range(10))  # 10 000 characters
    embed = render(Message(title="Big", sections=sections)).embed
    assert not embed.fields and len(embed) <= 6000 and (embed.description or "").endswith("…")
