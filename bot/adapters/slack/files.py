"""Files on Slack, both ways: a command's FILE argument asked for in a modal with a `file_input`, fetched
with the bot token (files.info, then its private URL); a reply's files uploaded with files_upload_v2
(files.getUploadURLExternal, the upload URL, files.completeUploadExternal), privately into the member's DM.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.adapters.downloads import Downloader, DownloadError
from bot.adapters.slack.render import Block, _text, plain, truncate
from bot.core import command_line
from bot.core.commands import Command, Kind
from bot.core.commandspec import Args
from bot.core.messages import Attachment, Message, Reply, Upload, error
from bot.core.model.models import Caller
from bot.core.service import StudyService

log = logging.getLogger(__name__)

UPLOAD_CALLBACK = "upload"  # the modal asking for a command's file
FILE_INPUT = "file"  # the action id of every file_input
IMPORT_SHORTCUT = "import_deck"  # message shortcut: import a file already posted
CARD_SHORTCUT = "make_card"  # message shortcut: make a study card from a message
IMPORT_COMMAND = "deck import"  # the command the import shortcut runs (its FILE argument gets the file)
ALT_TEXT_LIMIT = 1000

NO_FILE = error("That message has no file to import.", "Use it on a message with a deck file attached.")
NO_IMPORT = error("Importing decks is not available here.")


def file_args(row: Command) -> tuple[str, ...]:
    return tuple(arg.name for arg in row.args if arg.kind is Kind.FILE)


def with_files(row: Command, files: Mapping[str, Upload | None]) -> Command:
    """The row with its FILE arguments already given: the typed words bind to the others, as usual."""
    names = file_args(row)

    async def call(service: StudyService, caller: Caller, args: Args) -> Reply:
        return await row.call(service, caller, {**args, **{name: files.get(name) for name in names}})

    rest = tuple(arg for arg in row.args if arg.kind is not Kind.FILE)
    return dataclasses.replace(row, args=rest, call=call)


async def run_with_files(
    row: Command, service: StudyService, caller: Caller, line: str, files: Mapping[str, Upload | None]
) -> Reply:
    return await command_line.run((with_files(row, files),), service, caller, line)


def upload_modal(row: Command, private_metadata: str, command: str = "/study") -> Block:
    """A modal with one file_input per FILE argument of the command; its other words were typed already."""
    blocks: list[Block] = [
        {
            "type": "input",
            "block_id": arg.name,
            "label": _text(truncate(plain(arg.help, command), 2000), "plain_text"),
            "optional": not arg.required,
            "element": {"type": "file_input", "action_id": FILE_INPUT, "max_files": 1},
        }
        for arg in row.args
        if arg.kind is Kind.FILE
    ]
    return {
        "type": "modal",
        "callback_id": UPLOAD_CALLBACK,
        "private_metadata": private_metadata,
        "title": _text(truncate(f"{command} {row.path}", 24), "plain_text"),
        "submit": _text("Send", "plain_text"),
        "close": _text("Cancel", "plain_text"),
        "blocks": blocks,
    }


def submitted_files(view: Any) -> dict[str, str]:
    """The file id chosen in each file_input of a submitted modal, by block id; blocks without one are
    left out. Anything not shaped like Slack's view state is ignored, never raised on."""
    state = view.get("state") if isinstance(view, dict) else None
    values = state.get("values") if isinstance(state, dict) else None
    found: dict[str, str] = {}
    if not isinstance(values, dict):
        return found
    for block, inputs in values.items():
        element = inputs.get(FILE_INPUT) if isinstance(inputs, dict) else None
        chosen = element.get("files") if isinstance(element, dict) else None
        if not isinstance(chosen, list):
            continue
        ids = [f["id"] for f in chosen if isinstance(f, dict) and isinstance(f.get("id"), str) and f["id"]]
        if ids and isinstance(block, str):
            found[block] = ids[0]
    return found


def shared_file(message: Any) -> str | None:
    """The id of the first file of a message a shortcut was used on."""
    files = message.get("files") if isinstance(message, dict) else None
    if not isinstance(files, list):
        return None
    for item in files:
        if isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"]:
            return str(item["id"])
    return None


class SlackFiles:
    def __init__(self, downloads: Downloader) -> None:
        self.downloads = downloads

    async def fetch(self, client: Any, file_id: str) -> Upload:
        """A member's file: files.info, then its private URL with the bot token (DownloadError if not)."""
        try:
            info = (await client.files_info(file=file_id))["file"]
        except (SlackClientError, KeyError, TypeError) as exc:
            code = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
            log.warning("slack files.info failed error=%s", code)
            hint = "Upload it again, then try once more."
            if code in ("file_not_found", "access_denied", "file_deleted"):
                hint = "Invite me to its channel (/invite @studybot), or send it with the import command."
            raise DownloadError(error("I could not read that file on Slack.", hint), str(code)) from None
        size = info.get("size")
        self.downloads.check_size(size if isinstance(size, int) else None)
        url = info.get("url_private_download") or info.get("url_private")
        if not isinstance(url, str):
            raise DownloadError(error("Slack gave no way to download that file."), "no url_private")
        page = info.get("mimetype") == "text/html" or info.get("filetype") == "html"
        data = await self.downloads.fetch(
            url, {"Authorization": f"Bearer {client.token}"}, not_a_page=not page
        )
        return Upload(str(info.get("name") or info.get("title") or file_id), data)

    async def send(self, client: Any, message: Message, user: str, channel: str | None) -> Message:
        """Upload the reply's files: a private reply's into the member's DM with the bot, a public one's
        into the channel. Returns the message to show in the reply, saying where the files went."""
        if not message.files:
            return message
        try:
            if message.private or not channel:
                opened = await client.conversations_open(users=user)
                channel = str(opened["channel"]["id"])
            for attachment in message.files:
                await self._upload(client, attachment, channel)
        except (SlackClientError, KeyError, TypeError) as exc:
            code = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
            log.warning("slack file upload failed error=%s", code)
            return dataclasses.replace(
                message, files=(), footer="I could not send the file on Slack; try again in a moment."
            )
        where = "in your direct messages with me" if message.private else "in this channel"
        note = f"The file is {where}."
        return dataclasses.replace(message, footer=f"{message.footer}\n{note}" if message.footer else note)

    async def _upload(self, client: Any, attachment: Attachment, channel: str) -> None:
        await client.files_upload_v2(
            channel=channel,
            file=attachment.data,
            filename=attachment.filename,
            title=attachment.filename,
            alt_txt=attachment.description[:ALT_TEXT_LIMIT] or None,
        )


def metadata(**values: object) -> str:
    return json.dumps(values, separators=(",", ":"))
