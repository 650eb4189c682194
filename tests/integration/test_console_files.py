"""The terminal's files: a typed path read into an upload, with plain errors; reply files saved."""

from __future__ import annotations

from pathlib import Path

from bot.adapters.console_files import open_upload, save_files
from bot.core.decks.limits import IMPORT_FILE_MAX
from bot.core.messages import Attachment, Message, Upload


def test_a_typed_path_is_read_with_quotes_and_home(tmp_path: Path) -> None:
    deck = tmp_path / "my deck.csv"
    deck.write_bytes(b"question,answer\nQ,A\n")
    assert open_upload(f'"{deck}"') == Upload("my deck.csv", b"question,answer\nQ,A\n")
    assert open_upload(f"  {deck} ") == Upload("my deck.csv", b"question,answer\nQ,A\n")


def test_missing_folder_and_too_big_are_refused_unread(tmp_path: Path) -> None:
    missing = open_upload(str(tmp_path / "nope.csv"))
    assert isinstance(missing, Message) and missing.is_error and "There is no file at" in missing.title
    folder = open_upload(str(tmp_path))
    assert isinstance(folder, Message) and "is not a file" in folder.title
    big = tmp_path / "big.csv"
    with big.open("wb") as file:
        file.truncate(IMPORT_FILE_MAX + 1)  # sparse: nothing is written, nothing is read
    refused = open_upload(str(big))
    assert isinstance(refused, Message) and "at most 5 MB" in refused.title


def test_reply_files_are_saved_without_overwriting(tmp_path: Path) -> None:
    file = Attachment("team notes.md", b"# T\n", "text/markdown", "the deck")
    first = save_files([file], tmp_path / "files")
    second = save_files([file], tmp_path / "files")
    assert first == [f"  Saved {tmp_path / 'files' / 'team-notes.md'} (the deck)"]
    assert second == [f"  Saved {tmp_path / 'files' / 'team-notes-2.md'} (the deck)"]
    sneaky = save_files([Attachment("../../etc/x.md", b"x", "text/markdown")], tmp_path / "files")
    assert sneaky == [f"  Saved {tmp_path / 'files' / 'x.md'}"]
