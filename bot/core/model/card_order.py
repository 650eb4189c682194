"""The order a channel's daily questions come in: a seeded shuffle per pass through the deck."""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence


def shuffled(card_ids: Sequence[int], seed: str, cycle: int) -> list[int]:
    """The channel's order for one pass through the deck; the same on every instance and after restarts."""
    order = sorted(card_ids)
    random.Random(f"{seed}:{cycle}").shuffle(order)
    return order


def pick_card(
    card_ids: Sequence[int], used: Collection[int], seed: str, cycle: int, last_card: int | None
) -> tuple[int, int] | None:
    """(card id, cycle): the next unused card of this pass, or the first of a fresh pass once all are used.

    Cards used in the pass are skipped rather than counted, so editing a deck mid-pass repeats nothing."""
    if not card_ids:
        return None
    for card_id in shuffled(card_ids, seed, cycle):
        if card_id not in used:
            return card_id, cycle
    order = shuffled(card_ids, seed, cycle + 1)
    # A fresh pass must not open with the card that closed the last one.
    if len(order) > 1 and order[0] == last_card:
        return order[1], cycle + 1
    return order[0], cycle + 1
