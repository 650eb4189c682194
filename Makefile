# Two commands for a newcomer: `make run` (the bot in your terminal) and `make test` (lint, types, tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint types pytest install install-dev bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when pyproject.toml changes; the stamp files record what was installed.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Compiled once here, as `pip install` does for an installed bot: where PYTHONDONTWRITEBYTECODE is set, a
# checkout would otherwise compile all of bot/ on every start (~60 ms of the console's cold start).
run: install
	$(BIN)/python -m compileall -q bot
	$(BIN)/studybot console

test: install-dev lint types pytest

lint:
	$(BIN)/ruff check bot tests bench migrations
	$(BIN)/ruff format --check bot tests bench migrations

types:
	$(BIN)/mypy --strict bot

# Three workers on two cores: most of the whole-process tests wait on their processes, not the CPU.
pytest:
	$(BIN)/pytest -q -ra -n 3

bench: install
	$(BIN)/python bench/grade_path.py
	$(BIN)/python bench/sustained.py
	$(BIN)/python bench/leaderboard.py
	$(BIN)/python bench/fanout.py
	$(BIN)/python bench/slack_ack.py
	$(BIN)/python bench/stats_picture.py
	$(BIN)/python bench/cold_start.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
