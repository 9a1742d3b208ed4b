# Samen: two commands are all a new machine needs — `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# uv installs exactly what uv.lock holds (versions and hashes, for every platform and Python >= 3.11) and
# makes the lock; pip only installs uv itself. tests/test_lock.py checks the Dockerfile uses this version.
UV_VERSION := 0.13.9
UV := $(BIN)/uv
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never

.PHONY: run test lint messages bench clean lock upgrade-lock

$(UV): Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet "uv==$(UV_VERSION)"
	touch $(UV)

# --locked: a dependency added to pyproject.toml without `make lock` stops here (and so fails CI).
$(STAMP): pyproject.toml uv.lock | $(UV)
	@$(UV) sync --quiet --locked --extra test || { \
		echo "uv.lock does not match pyproject.toml: run 'make lock' and commit uv.lock"; exit 1; }
	touch $(STAMP)

# Refresh uv.lock after a change to pyproject.toml's dependencies; the versions already locked stay.
lock: $(UV)
	$(UV) lock

# Every dependency to its newest release within pyproject.toml's bounds (then run the tests, commit).
upgrade-lock: $(UV)
	$(UV) lock --upgrade

# The real bot when Slack tokens are configured (environment or .env), else the demo.
run: $(STAMP)
	@if [ -n "$$SLACK_BOT_TOKEN" ] || grep -qs '^SLACK_BOT_TOKEN=' .env; then \
		$(BIN)/samen run; \
	else \
		echo "No SLACK_BOT_TOKEN set: playing the demo (see README.md to connect a real workspace)."; \
		$(BIN)/samen demo; \
	fi

# One worker per core, a test file's tests together (their module fixtures are built once): run serially
# the suite outgrew CI's 30 minutes on two cores.
test: $(STAMP)
	$(BIN)/pytest -n auto --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bot commands
	$(BIN)/lint-imports
	$(BIN)/python scripts/import_circles.py --quiet

# Which texts lack a Dutch translation, or are no longer used (the same check CI runs).
messages: $(STAMP)
	$(BIN)/pytest -q tests/test_i18n.py

bench: $(STAMP)
	$(BIN)/python bench/ack_latency.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
