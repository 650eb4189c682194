"""Who counts as active for a team: the divisor of a team's points per member."""

from __future__ import annotations


def becomes_active(points_before: int, points_after: int) -> bool:
    """Whether a grade makes its member active for the team in a period: with their first points for the
    team there. They stay active, also after leaving, as their points stay with the team: points per active
    member is then what each member who studied for the team brought it."""
    return points_before <= 0 < points_after
