# Two commands matter: `make demo` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench screenshots snapshots-update clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/moderate --demo

lint: $(STAMP)
	$(BIN)/ruff check tui tests benchmarks screenshots
	$(BIN)/ruff format --check tui tests benchmarks screenshots

# TEXTUAL_ANIMATIONS is read when textual is imported, so it belongs here, not in conftest.
test: lint
	TZ=UTC TEXTUAL_ANIMATIONS=none PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring \
		$(BIN)/python -m pytest -q

snapshots-update: $(STAMP)
	TZ=UTC TEXTUAL_ANIMATIONS=none PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring \
		$(BIN)/python -m pytest -q tests/test_snapshots.py --snapshot-update

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python benchmarks/run_all.py

screenshots: $(STAMP)
	TZ=UTC TEXTUAL_ANIMATIONS=none $(BIN)/python screenshots/generate.py screenshots

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
