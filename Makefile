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
	$(BIN)/ruff format --check bot commands tests bench
	$(BIN)/mypy bot commands

# Re-extract translatable texts and merge them into the Dutch and English catalogs.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k t:2 --no-location --sort-output --omit-header \
		-o bot/locale/messages.pot .
	$(BIN)/pybabel update -i bot/locale/messages.pot -d bot/locale -D messages --no-fuzzy-matching --omit-header

bench: $(STAMP)
	$(BIN)/python bench/ack_latency.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
