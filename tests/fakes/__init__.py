"""Fakes of outside services for tests."""

import pytest

# The fakes assert too (and are pytest plugins with fixtures): give them pytest's assertion messages.
pytest.register_assert_rewrite("tests.fakes.discord", "tests.fakes.slack")
