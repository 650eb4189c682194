"""The daily question on Slack: chat.postMessage, then a first threaded reply that opens the discussion."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.adapters.slack.render import escape, fallback_text, message_blocks
from bot.core.messages import Message
from bot.schedule.poster import PermanentPostError, PostRef, RetryablePostError

log = logging.getLogger(__name__)

# The AsyncWebClient holding the bot token for a workspace (team id); raises PermanentPostError if none.
ClientForTeam = Callable[[str], Awaitable[Any]]

# Errors that posting again cannot fix: the channel is paused with this reason until reconfigured.
PERMANENT = {
    "channel_not_found": "Slack can't find the channel: deleted, or private without the bot in it",
    "not_in_channel": "the bot isn't in the channel: invite it with /invite @studybot",
    "is_archived": "the channel is archived",
    "missing_scope": "the app lacks a permission it needs: reinstall it from slack-manifest.yml",
    "restricted_action": "a workspace setting stops the bot from posting in that channel",
    "account_inactive": "the bot's token is inactive: the app was probably removed from the workspace",
    "invalid_auth": "Slack refused the bot token",
    "not_authed": "no bot token was sent",
    "token_revoked": "the bot's token was revoked: the app was probably removed from the workspace",
    "team_access_not_granted": "the app isn't allowed in that workspace",
}


# Errors of a direct message that trying again cannot fix: the member's reminders pause with this reason.
DM_PERMANENT = {
    "user_not_found": "Slack can't find you in the workspace any more.",
    "user_disabled": "your Slack account is deactivated.",
    "account_inactive": "your Slack account is inactive.",
    "cannot_dm_bot": "Slack does not let the bot message this account.",
    "messages_tab_disabled": "the bot's Messages tab is switched off in this workspace.",
    "channel_not_found": "Slack can't find a direct message with you.",
    "restricted_action": "a workspace setting stops the bot from messaging you.",
}


def describe(exc: SlackApiError) -> tuple[str, int | None, float | None]:
    """(error code, HTTP status, Retry-After seconds) from a failed call, whatever shape the response has."""
    response = exc.response
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    data = getattr(response, "data", None)
    code = str(data.get("error") or "") if isinstance(data, dict) else ""
    headers = getattr(response, "headers", None) or {}
    raw = headers.get("Retry-After") or headers.get("retry-after")
    try:
        retry_after = float(raw) if raw is not None else None
    except ValueError:
        retry_after = None
    return code, int(status) if status is not None else None, retry_after


def post_error(exc: SlackApiError, channel: str) -> PermanentPostError | RetryablePostError:
    code, status, retry_after = describe(exc)
    if code in PERMANENT:
        return PermanentPostError(f"{PERMANENT[code]} (channel {channel}, Slack error {code})")
    if code == "ratelimited" or status == 429:
        return RetryablePostError(
            "Slack rate limit", retry_after=retry_after if retry_after is not None else 30
        )
    if status is not None and status >= 500:
        return RetryablePostError(f"Slack server error (HTTP {status})", retry_after=retry_after)
    # Unknown codes are retried: pausing a channel for an error we don't understand would be worse.
    return RetryablePostError(f"Slack error {code or 'unknown'} (HTTP {status})", retry_after=retry_after)


class SlackPoster:
    """Implements bot.schedule.poster.Poster for Slack."""

    platform = "slack"

    def __init__(self, client_for_team: ClientForTeam, command: str = "/study") -> None:
        self._client_for_team = client_for_team
        self._command = command

    async def post(self, workspace_ref: str, channel_ref: str, message: Message, thread_name: str) -> PostRef:
        client = await self._client_for_team(workspace_ref)
        try:
            response = await client.chat_postMessage(
                channel=channel_ref,
                text=fallback_text(message, self._command),
                blocks=message_blocks(message, self._command),
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            raise post_error(exc, channel_ref) from exc
        except (TimeoutError, aiohttp.ClientError, SlackClientError) as exc:
            raise RetryablePostError(f"could not reach Slack: {exc!r}") from exc
        ts = str(response["ts"])
        channel = str(response.get("channel") or channel_ref)
        # The post is made: a failed thread opener must not make the runner post the question twice.
        try:
            opener = f"*{escape(thread_name)}* · discuss it here 🧵" if thread_name else "Discuss it here 🧵"
            await client.chat_postMessage(channel=channel, thread_ts=ts, text=opener, unfurl_links=False)
        except (TimeoutError, SlackClientError, aiohttp.ClientError) as exc:
            log.warning("slack thread opener failed channel=%s ts=%s error=%r", channel, ts, exc)
        return PostRef(message_ref=ts, thread_ref=ts)

    async def dm(self, workspace_ref: str, user_ref: str, message: Message) -> PostRef:
        """chat.postMessage with `channel` set to the member's user id: Slack delivers it in the app's DM
        with them (im:write). Errors that name the member pause their reminders."""
        client = await self._client_for_team(workspace_ref)
        try:
            response = await client.chat_postMessage(
                channel=user_ref,
                text=fallback_text(message, self._command),
                blocks=message_blocks(message, self._command),
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            code = describe(exc)[0]
            if code in DM_PERMANENT:
                raise PermanentPostError(f"{DM_PERMANENT[code]} (Slack error {code})") from exc
            raise post_error(exc, user_ref) from exc
        except (TimeoutError, aiohttp.ClientError, SlackClientError) as exc:
            raise RetryablePostError(f"could not reach Slack: {exc!r}") from exc
        return PostRef(message_ref=str(response["ts"]))
