"""Slack requests to core calls and core replies back to Slack. Every handler acks first, then works."""

from __future__ import annotations

import html
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackClientError

from bot.adapters.downloads import SLACK_FILES, Downloader, DownloadError, parse_hosts
from bot.adapters.slack.admins import AdminCheck
from bot.adapters.slack.backlog import Backlog, Busy
from bot.adapters.slack.files import (
    CARD_SHORTCUT,
    IMPORT_COMMAND,
    IMPORT_SHORTCUT,
    NO_FILE,
    NO_IMPORT,
    UPLOAD_CALLBACK,
    SlackFiles,
    file_args,
    metadata,
    run_with_files,
    shared_file,
    submitted_files,
    upload_modal,
)
from bot.adapters.slack.inbox import Inbox, InboxError, Item
from bot.adapters.slack.render import (
    ANSWER_BLOCK,
    ANSWER_CALLBACK,
    ANSWER_INPUT,
    fallback_text,
    form_modal,
    home_view,
    message_blocks,
    plain,
)
from bot.adapters.slack.requests import problem
from bot.config import Settings
from bot.core import actions, command_line
from bot.core import commands as core_commands
from bot.core.commands import Command, needs_admin, run_text_command
from bot.core.messages import Form, Message, Reply, error
from bot.core.model.models import Caller
from bot.core.service import StudyService

log = logging.getLogger(__name__)

PLATFORM = "slack"
# A retry for these reasons means the first attempt never reached us, so it is handled; any other retry
# (http_timeout above all) means the first attempt is being handled already, so it is acked and dropped.
# A request is acked only once it is kept in the inbox, so any answer but 200 (http_error) means we did not
# take it: that retry is handled too.
NEVER_ARRIVED = frozenset({"connection_failed", "ssl_error", "too_many_redirects", "http_error"})
METADATA_LIMIT = 3000
RESPONSE_TIMEOUT = aiohttp.ClientTimeout(total=10)
RESPONSE_URL_LIFETIME = timedelta(minutes=29)
REPEAT_SECONDS = 60.0  # a repeated click within this long gets no second copy of the same message
MAX_ATTEMPTS = 5  # a request whose work keeps killing the process is given up after this many starts

OOPS = error("Something went wrong on my side.", "Please try again in a moment.")
TOO_LONG = error("That command is too long.", "Type it again with fewer words.")
EXPIRED_COMMAND = error("That took too long for Slack to open the form.", "Type the command again.")
EXPIRED = error("That took too long for Slack.", "Press the button again.")


def command_text(text: str) -> str:
    """Slash command text as the core reads it. The command is registered with escaping on, so a
    `#channel` arrives as `<#C123|name>` (which the core understands) and `&<>` as entities.
    `daily set|off|now` without a channel means this channel: the core knows that from channel_ref."""
    return html.unescape(" ".join(text.split()))


@dataclass(frozen=True)
class Target:
    """Where a reply goes: the interaction's response_url, else an ephemeral message in the channel."""

    user: str
    channel: str | None
    response_url: str | None
    replace: bool = False  # replace the ephemeral message the click came from


class SkipRetries(AsyncMiddleware):
    """Runs before authorization: a request not shaped like Slack's is refused (in HTTP mode that was
    checked before bolt parsed it; this is for Socket Mode), and a retried delivery is acked without
    running anything twice. (A class: bolt calls it without its per-call argument injection.)"""

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        found = problem(req.body)
        if found is not None:
            log.warning("slack request refused status=400 reason=%r", found)
            return BoltResponse(status=400, body=f"malformed request: {found}")
        retry = req.headers.get("x-slack-retry-num")
        reason = (req.headers.get("x-slack-retry-reason") or [""])[0]
        if retry and reason not in NEVER_ARRIVED:
            log.info("slack retry ignored num=%s reason=%s", retry[0], reason or "-")
            return BoltResponse(status=200, body="", headers={"x-slack-no-retry": "1"})
        return await next()


class SlackHandlers:
    def __init__(
        self,
        service: StudyService,
        settings: Settings,
        session: aiohttp.ClientSession,
        inbox: Inbox,
        clients: Callable[[str], Awaitable[Any]],
        admins: AdminCheck | None = None,
        concurrency: int = 8,
    ) -> None:
        self.service = service
        self.command = settings.slack_command
        self.session = session
        self.inbox = inbox
        self.clients = clients  # the Web API client of a workspace, for work recovered from the inbox
        self.admins = admins or AdminCheck(settings.slack_admin_ids)
        self.background = Backlog(settings.slack_backlog_limit, concurrency)
        self.files = SlackFiles(Downloader(parse_hosts(settings.slack_files_url, SLACK_FILES), "Slack"))
        self._sent: dict[tuple[str, str, str], tuple[str, float]] = {}  # last new message per click

    def register(self, app: Any) -> None:
        # Clicks first: bolt tries listeners in order, and clicks are the bulk of the traffic.
        app.action(re.compile(".+"))(self.on_action)
        app.command(self.command)(self.on_command)
        app.view_submission(ANSWER_CALLBACK)(self.on_answer)
        app.view_submission(UPLOAD_CALLBACK)(self.on_upload)
        app.shortcut(IMPORT_SHORTCUT)(self.on_shortcut)
        app.shortcut(CARD_SHORTCUT)(self.on_shortcut)
        app.event("app_home_opened")(self.on_home)

    # -- listeners: keep the request in the inbox, ack, and do the work in the background ---------

    async def on_command(self, ack: Any, command: dict[str, Any], client: Any) -> None:
        await self.accept("command", command, client)
        await ack()

    async def on_action(self, ack: Any, body: dict[str, Any], client: Any) -> None:
        await self.accept("action", body, client)
        await ack()

    async def on_answer(self, ack: Any, body: dict[str, Any], client: Any) -> None:
        view = body.get("view") or {}
        typed = form_values(view)
        # The study answer's limits, checked while the form is open; other forms (a card's) have their own.
        form = actions.decode_form(str(_load_metadata(view.get("private_metadata") or "").get("f") or ""))
        study_answer = isinstance(form, actions.AnswerForm) and ANSWER_BLOCK in typed
        refused = self.service.check_answer(typed[ANSWER_BLOCK]) if study_answer else None
        if refused is not None:
            # The modal stays open with the reason under the field, and what was typed stays in it.
            await ack(
                response_action="errors", errors={ANSWER_BLOCK: plain(refused.plain_text(), self.command)}
            )
            return
        await self.accept("answer", body, client)
        await ack()  # closes the modal; the reveal follows as a message

    async def on_upload(self, ack: Any, body: dict[str, Any], client: Any) -> None:
        await self.accept("upload", body, client)
        await ack()  # closes the modal; the command's reply follows as a message

    async def on_shortcut(self, ack: Any, body: dict[str, Any], client: Any) -> None:
        await self.accept("shortcut", body, client)
        await ack()

    async def on_home(self, body: dict[str, Any], event: dict[str, Any], client: Any) -> None:
        if event.get("tab") == "home":
            await self.accept("home", body, client)

    async def accept(self, kind: str, body: dict[str, Any], client: Any) -> None:
        """Keep the request durably, then start it: Slack will not send it again once it is acked.
        Raises Busy (answered so that Slack retries) when too much is waiting or it cannot be kept."""
        with self.background.reserve():
            try:
                item = await self.inbox.add(kind, body)
            except InboxError as exc:
                raise Busy(f"the request could not be kept: {exc}") from None
            self.background.spawn(item, lambda it: self.run(it, client))

    def resume(self, items: list[Item]) -> None:
        """Work claimed from the inbox (left by a stop or a crash): finished like new work."""
        for item in items:
            self.background.spawn(item, lambda it: self.run(it, None))

    async def run(self, item: Item, client: Any) -> None:
        """One request's work; the row is forgotten when it is done, even if it failed (it said so)."""
        body = item.body
        if item.attempts > MAX_ATTEMPTS:
            log.warning("slack inbox gave up id=%s kind=%s attempts=%d", item.id, item.kind, item.attempts)
            self.inbox.done(item.id)
            return
        if client is None:
            try:
                client = await self.clients(team_of(item.kind, body))
            except Exception as exc:
                log.warning("slack inbox dropped id=%s kind=%s: no client: %s", item.id, item.kind, exc)
                self.inbox.done(item.id)
                return
        # A response_url works for 30 minutes; after that the reply goes to the channel instead.
        fresh = datetime.now(UTC) - item.received_at < RESPONSE_URL_LIFETIME
        try:
            if item.kind == "command":
                await self._command(body if fresh else {**body, "response_url": None}, client)
            elif item.kind == "action":
                actions = body.get("actions") or [{}]
                await self._action(body if fresh else {**body, "response_url": None}, actions[0], client)
            elif item.kind == "answer":
                await self._answer_submitted(body, body.get("view") or {}, client, fresh)
            elif item.kind == "upload":
                await self._upload_submitted(body, client, fresh)
            elif item.kind == "shortcut":
                await self._shortcut(body if fresh else {**body, "response_url": None}, client)
            elif item.kind == "home":
                await self._home(str(body["event"]["user"]), team_of("home", body), client)
        except Exception:  # the handlers answer their own failures; this is anything they did not catch
            log.exception("slack request failed id=%s kind=%s", item.id, item.kind)
        self.inbox.done(item.id)

    # -- the work -------------------------------------------------------------------------------

    async def _command(self, command: dict[str, Any], client: Any) -> None:
        target = Target(command["user_id"], command.get("channel_id"), command.get("response_url"))
        try:
            text = command_text(command.get("text") or "")
            admin = self.admins.configured(command["user_id"])
            # users.info only when the role matters: it is rate limited. The service decides.
            if not admin and needs_admin(text):
                admin = await self.admins.is_admin(client, command["team_id"], command["user_id"])
            caller = Caller(
                platform=PLATFORM,
                workspace_ref=command["team_id"],
                user_ref=command["user_id"],
                display_name=command.get("user_name") or "",
                is_admin=admin,
                channel_ref=command.get("channel_id"),
                timezone=await self.timezone(client, command["team_id"], command["user_id"]),
            )
            row = self._file_command(text)
            if row is None:
                reply = await run_text_command(self.service, caller, text)
            elif row.admin and not caller.is_admin:
                reply = await run_with_files(row, self.service, caller, text, {})  # the core refuses
            else:
                await self._ask_for_files(client, row, text, target, command.get("trigger_id"))
                return
            await self._answer(client, reply, target, command.get("trigger_id"))
        except Exception:
            log.exception("slack command failed text=%r", command.get("text"))
            await self.deliver(client, OOPS, target)

    # -- files: a command's file asked for in a modal; message shortcuts ------------------------

    def _file_command(self, text: str) -> Command | None:
        """The command typed, if it takes a file."""
        found = command_line.find(core_commands.COMMANDS, text.strip().lstrip("/").split())
        return found[0] if isinstance(found, tuple) and file_args(found[0]) else None

    async def _ask_for_files(
        self, client: Any, row: Command, text: str, target: Target, trigger_id: str | None
    ) -> None:
        meta = metadata(l=text, c=target.channel, u=target.response_url)
        if len(meta) > METADATA_LIMIT:
            meta = metadata(l=text, c=target.channel)
        if len(meta) > METADATA_LIMIT:
            await self.deliver(client, TOO_LONG, target)
            return
        try:
            await client.views_open(trigger_id=trigger_id, view=upload_modal(row, meta, self.command))
        except SlackClientError as exc:
            log.warning("slack views.open failed error=%r", exc)
            await self.deliver(client, EXPIRED_COMMAND, target)

    async def _as_admin(self, caller: Caller, client: Any, row: Command) -> Caller:
        """The caller with their role looked up, when the command is for admins."""
        if not row.admin or caller.is_admin:
            return caller
        admin = await self.admins.is_admin(client, caller.workspace_ref, caller.user_ref)
        return replace(caller, is_admin=admin)

    async def _upload_submitted(self, body: dict[str, Any], client: Any, fresh: bool = True) -> None:
        view = body.get("view") or {}
        meta = _load_metadata(view.get("private_metadata") or "")
        line = str(meta.get("l") or "")
        target = Target(body["user"]["id"], meta.get("c"), meta.get("u") if fresh else None)
        try:
            row = self._file_command(line)
            caller = await self._caller(body, meta.get("c"), client, view)
            if row is None:  # the command is gone since the modal opened (an upgrade)
                await self.deliver(
                    client, self.service.unknown_command(line.split()[0] if line else ""), target
                )
                return
            caller = await self._as_admin(caller, client, row)
            chosen: dict[str, Any] = {}
            if caller.is_admin or not row.admin:  # a member's file is not fetched: the core refuses them
                wanted = file_args(row)
                for name, file_id in submitted_files(view).items():
                    if name in wanted:
                        chosen[name] = await self.files.fetch(client, file_id)
            reply = await run_with_files(row, self.service, caller, line, chosen)
        except DownloadError as exc:
            reply = exc.reply
        except Exception:
            log.exception("slack upload submission failed")
            reply = OOPS
        await self._answer(client, reply, target, body.get("trigger_id"))

    async def _shortcut(self, body: dict[str, Any], client: Any) -> None:
        channel = (body.get("channel") or {}).get("id")
        target = Target(body["user"]["id"], channel, body.get("response_url"))
        message = body.get("message") or {}
        try:
            caller = await self._caller(body, channel, client)
            if body.get("callback_id") == CARD_SHORTCUT:
                text = html.unescape(str(message.get("text") or ""))
                reply = await self.service.card_from_message(caller, text)
            else:
                reply = await self._import_shared(client, caller, message)
        except DownloadError as exc:
            reply = exc.reply
        except Exception:
            log.exception("slack shortcut failed callback=%r", body.get("callback_id"))
            reply = OOPS
        await self._answer(client, reply, target, body.get("trigger_id"))

    async def _import_shared(self, client: Any, caller: Caller, message: dict[str, Any]) -> Reply:
        """ "Import as deck" on a message: its file, as if sent with the import command."""
        row = self._file_command(IMPORT_COMMAND)
        if row is None:
            return NO_IMPORT
        caller = await self._as_admin(caller, client, row)
        if row.admin and not caller.is_admin:
            return await run_with_files(row, self.service, caller, row.path, {})  # the core refuses
        file_id = shared_file(message)
        if file_id is None:
            return NO_FILE
        upload = await self.files.fetch(client, file_id)
        return await run_with_files(row, self.service, caller, row.path, {file_args(row)[0]: upload})

    async def _action(self, body: dict[str, Any], action: dict[str, Any], client: Any) -> None:
        container = body.get("container") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
        # A click on one of our ephemeral messages updates it in place; a click on a public post (the
        # daily question) gets the clicker a new private message and leaves the post alone.
        ephemeral = bool(container.get("is_ephemeral"))
        target = Target(body["user"]["id"], channel, body.get("response_url"), replace=ephemeral)
        try:
            action_id = str(action.get("value") or action.get("action_id") or "")
            caller = await self._caller(body, channel, client, role_for=action_id)
            reply = await self.service.act(caller, action_id)
            if self._repeated(caller, action_id, reply, target):
                return
            await self._answer(client, reply, target, body.get("trigger_id"))
        except Exception:
            log.exception("slack action failed action=%r", action.get("action_id"))
            await self.deliver(client, OOPS, replace(target, replace=False))

    def _repeated(self, caller: Caller, action_id: str, reply: Reply, target: Target) -> bool:
        """True for a repeat of a click whose reply would be one more new message just like the last one
        (a double click: "already graded" again, or the daily question's answer again). Replies that
        update the clicked message in place are never repeats: they change nothing the member sees."""
        if not isinstance(reply, Message) or (target.replace and not reply.is_error):
            return False
        key = (caller.workspace_id, caller.user_ref, ":".join(action_id.split(":")[:2]))
        now = time.monotonic()
        last = self._sent.get(key)
        if last is not None and last[0] == reply.title and now - last[1] < REPEAT_SECONDS:
            return True
        if len(self._sent) > 10_000:
            self._sent.clear()
        self._sent[key] = (reply.title, now)
        return False

    async def _answer_submitted(
        self, body: dict[str, Any], view: dict[str, Any], client: Any, fresh: bool = True
    ) -> None:
        meta = _load_metadata(view.get("private_metadata") or "")
        url = meta.get("u") if fresh else None
        target = Target(body["user"]["id"], meta.get("c"), url, replace=bool(meta.get("r")))
        try:
            form_id = str(meta.get("f") or "")
            caller = await self._caller(body, meta.get("c"), client, view, role_for=form_id)
            reply = await self.service.submit(caller, form_id, form_values(view))
            await self.deliver(client, reply, target)
        except Exception:
            log.exception("slack answer submission failed")
            await self.deliver(client, OOPS, replace(target, replace=False))

    async def _home(self, user: str, team: str, client: Any) -> None:
        try:
            zone = await self.timezone(client, team, user)
            caller = Caller(platform=PLATFORM, workspace_ref=team, user_ref=user, timezone=zone)
            parts = [await self.service.stats(caller), await self.service.decks(caller)]
            await client.views_publish(user_id=user, view=home_view(parts, self.command))
        except Exception:
            log.exception("slack home tab failed user=%s", user)

    # -- replies --------------------------------------------------------------------------------

    async def timezone(self, client: Any, team: str, user: str) -> str | None:
        """The member's own time zone (users.info, cached); None leaves the core to the one it kept."""
        return await self.admins.profiles.timezone(client, team, user)

    async def _caller(
        self,
        body: dict[str, Any],
        channel: str | None,
        client: Any,
        view: dict[str, Any] | None = None,
        role_for: str = "",
    ) -> Caller:
        """Who clicked or submitted. Their role is looked up (users.info, rate limited) only when the
        button or form `role_for` needs it (reviewing, removing a deck, a card form)."""
        user = body["user"]
        team = str((body.get("team") or {}).get("id") or user.get("team_id") or (view or {}).get("team_id"))
        admin = self.admins.configured(user["id"])
        if not admin and role_for and actions.needs_admin(role_for):
            admin = await self.admins.is_admin(client, team, user["id"])
        return Caller(
            platform=PLATFORM,
            workspace_ref=team,
            user_ref=user["id"],
            display_name=user.get("username") or user.get("name") or "",
            is_admin=admin,
            channel_ref=channel,
            timezone=await self.timezone(client, team, user["id"]),
        )

    async def _answer(self, client: Any, reply: Reply, target: Target, trigger_id: str | None) -> None:
        if isinstance(reply, Form):
            await self.open_form(client, reply, target, trigger_id)
        else:
            await self.deliver(client, reply, target)

    async def open_form(self, client: Any, form: Form, target: Target, trigger_id: str | None) -> None:
        meta: dict[str, Any] = {
            "f": form.id,
            "c": target.channel,
            "u": target.response_url,
            "r": target.replace,
        }
        encoded = json.dumps(meta, separators=(",", ":"))
        if len(encoded) > METADATA_LIMIT:
            encoded = json.dumps({**meta, "u": None}, separators=(",", ":"))
        try:
            await client.views_open(trigger_id=trigger_id, view=form_modal(form, encoded, self.command))
        except SlackClientError as exc:
            # Trigger ids live 3 seconds; if Slack says it expired, the member can simply press again.
            log.warning("slack views.open failed error=%r", exc)
            await self.deliver(client, EXPIRED, replace(target, replace=False))

    async def deliver(self, client: Any, message: Message, target: Target) -> None:
        if message.files:
            message = await self.files.send(client, message, target.user, target.channel)
        payload: dict[str, Any] = {
            "text": fallback_text(message, self.command),
            "blocks": message_blocks(message, self.command),
        }
        if target.response_url:
            if target.replace and not message.is_error:
                # Errors never replace: a double click must not wipe out the first click's result.
                body = {**payload, "replace_original": True}
            else:
                kind = "ephemeral" if message.private else "in_channel"
                body = {**payload, "replace_original": False, "response_type": kind}
            if await self._post_response_url(target.response_url, body):
                return
        if target.channel:
            try:
                await client.chat_postEphemeral(channel=target.channel, user=target.user, **payload)
            except SlackClientError as exc:
                log.warning("slack reply lost channel=%s user=%s error=%r", target.channel, target.user, exc)

    async def _post_response_url(self, url: str, body: dict[str, Any]) -> bool:
        try:
            async with self.session.post(url, json=body, timeout=RESPONSE_TIMEOUT) as response:
                if response.status == 200:
                    return True
                log.warning(
                    "slack response_url refused status=%s body=%r", response.status, await response.text()
                )
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("slack response_url failed error=%r", exc)
        return False


def form_values(view: dict[str, Any]) -> dict[str, str]:
    """A submitted modal's text boxes by block id (the core's field names)."""
    state = (view.get("state") or {}).get("values") or {}
    return {
        str(block): str((inputs.get(ANSWER_INPUT) or {}).get("value") or "")
        for block, inputs in state.items()
        if isinstance(inputs, dict)
    }


def team_of(kind: str, body: dict[str, Any]) -> str:
    """The workspace a request came from."""
    if kind == "command":
        return str(body.get("team_id") or "")
    if kind == "home":
        auths = body.get("authorizations") or [{}]
        return str(body.get("team_id") or auths[0].get("team_id") or "")
    user = body.get("user") or {}
    view = body.get("view") or {}
    return str((body.get("team") or {}).get("id") or user.get("team_id") or view.get("team_id") or "")


def _load_metadata(raw: str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
