"""The domain: cards and members, grading, streaks, the daily calendar and card order."""
