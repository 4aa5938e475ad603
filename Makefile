# Two commands on a fresh machine: `make run` (install + launch) and `make test` (install + all tests).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast bench soak screenshots wheel bundle clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip >/dev/null
	$(BIN)/python -m pip install -e ".[dev]"
	$(BIN)/python packaging/check_qt.py
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/cvexplorer $(ARGS)

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q $(PYTEST_ARGS)

test-fast: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -m "not slow" $(PYTEST_ARGS)

bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/cvexplorer bench

soak: $(STAMP)
	CVEXPLORER_SOAK_SECONDS=$${CVEXPLORER_SOAK_SECONDS:-300} QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -m slow tests/ui/test_soak.py -s

wheel: $(STAMP)
	$(BIN)/python -m build --wheel

bundle: $(STAMP)
	$(BIN)/python -m pip install ".[package]"
	$(BIN)/pyinstaller --noconfirm packaging/cvexplorer.spec

clean:
	rm -rf $(VENV) build dist *.egg-info
