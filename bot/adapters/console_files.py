"""Files in the terminal: a path typed as a command's file argument is read into an Upload; files sent
with a reply (a deck export) are saved under the data directory and their paths printed."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from bot.core.decks.limits import IMPORT_FILE_MAX
from bot.core.messages import Attachment, Message, Upload, error

_UNSAFE = re.compile(r"[^\w.\-]+")


def open_upload(typed: str) -> Upload | Message:
    """The file at the typed path (quotes around it allowed), or the error to show; never more than the
    import limit is read."""
    text = typed.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    path = Path(text).expanduser()
    try:
        size = path.stat().st_size
        if not path.is_file():
            return error(f"“{text}” is not a file.", "Give the path of a deck file: /deck import PATH")
        if size > IMPORT_FILE_MAX:
            return error(
                f"“{path.name}” is {size / 1_000_000:.1f} MB; a deck file can be at most "
                f"{IMPORT_FILE_MAX // 1_000_000} MB.",
                "Nothing was imported.",
            )
        with path.open("rb") as file:
            data = file.read(IMPORT_FILE_MAX + 1)  # the file may have grown since stat
    except FileNotFoundError:
        return error(f"There is no file at “{text}”.", "Give the path of a deck file: /deck import PATH")
    except OSError as exc:
        return error(f"I cannot read “{text}”: {exc.strerror or exc}.", "Check the path and its permissions.")
    return Upload(path.name, data)


def save_files(files: Iterable[Attachment], folder: Path) -> list[str]:
    """Save each file under `folder` (never over an existing one); one line per file saying where."""
    lines = []
    for attachment in files:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            target = _free_name(folder, attachment.filename)
            target.write_bytes(attachment.data)
        except OSError as exc:
            lines.append(f"  ⚠ Could not save {attachment.filename}: {exc.strerror or exc}")
            continue
        about = f" ({attachment.description})" if attachment.description else ""
        lines.append(f"  Saved {target.resolve()}{about}")
    return lines


def _free_name(folder: Path, filename: str) -> Path:
    name = _UNSAFE.sub("-", Path(filename).name).strip(".-") or "file"
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    target = folder / name
    number = 1
    while target.exists():
        number += 1
        target = folder / (f"{stem}-{number}.{suffix}" if suffix else f"{name}-{number}")
    return target
