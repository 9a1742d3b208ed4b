# Samen: two commands are all a new machine needs — `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint messages bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

# The real bot when Slack tokens are configured (environment or .env), else the demo.
run: $(STAMP)
	@if [ -n "$$SLACK_BOT_TOKEN" ] || grep -qs '^SLACK_BOT_TOKEN=' .env; then \
		$(BIN)/samen run; \
	else \
		echo "No SLACK_BOT_TOKEN set: playing the demo (see README.md to connect a real workspace)."; \
		$(BIN)/samen demo; \
	fi

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bot commands

# Which texts lack a Dutch translation, or are no longer used (the same check CI runs).
messages: $(STAMP)
	$(BIN)/pytest -q tests/test_i18n.py

bench: $(STAMP)
	$(BIN)/python bench/ack_latency.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
