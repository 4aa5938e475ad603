# Two commands on a fresh machine: `make run` (install + launch) and `make test` (install + all tests).
# `make run` installs only what the app needs; `make test` adds the dev extras (pytest, build...).
# `make wheel` and `make bundle` build out of tree (a temporary copy of the source) and never touch .venv.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
DIST ?= dist

.PHONY: run test test-fast bench soak screenshots wheel bundle bundle-gpu install-desktop check-qt clean

$(RUN_STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip >/dev/null
	$(BIN)/python -m pip install -e .
	$(BIN)/python packaging/check_qt.py
	touch $(RUN_STAMP)

$(DEV_STAMP): $(RUN_STAMP)
	$(BIN)/python -m pip install -e ".[dev]"
	touch $(DEV_STAMP)

# The Qt check runs before each launch: it loads the platform plugin this display needs and prints
# the apt/dnf line for any missing system library.
run: $(RUN_STAMP)
	$(BIN)/python packaging/check_qt.py
	$(BIN)/cvexplorer $(ARGS)

check-qt: $(RUN_STAMP)
	$(BIN)/python packaging/check_qt.py $(ARGS)

install-desktop: $(RUN_STAMP)
	$(BIN)/cvexplorer install-desktop $(ARGS)

test: $(DEV_STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -n 2 --dist loadfile $(PYTEST_ARGS)

test-fast: $(DEV_STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -n 2 --dist loadfile -m "not slow" $(PYTEST_ARGS)

bench: $(RUN_STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/cvexplorer bench

# The README's pictures: every panel in the window at 1920×1080, projector theme, on its demo input.
SHOT_PANELS := calculator conv receptive-field anchors nms detector unet sam vit stereo stitching welcome
screenshots: $(RUN_STAMP)
	for p in $(SHOT_PANELS); do QT_QPA_PLATFORM=offscreen $(BIN)/cvexplorer screenshot $$p \
	  docs/screenshots/$$p-projector.png --theme projector --size 1920x1080 --window --demo || exit 1; done
	QT_QPA_PLATFORM=offscreen $(BIN)/cvexplorer screenshot welcome docs/screenshots/welcome-light.png \
	  --theme light --size 1280x720 --window

soak: $(DEV_STAMP)
	CVEXPLORER_SOAK_SECONDS=$${CVEXPLORER_SOAK_SECONDS:-300} QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -m slow tests/ui/test_soak.py -s

wheel: $(DEV_STAMP)
	$(BIN)/python packaging/build.py wheel --outdir $(DIST)

# A one-folder app in $(DIST)/cvexplorer-cpu (onnxruntime CPU build), built in its own venv, headless.
bundle:
	$(PY) packaging/build.py bundle --outdir $(DIST) --python $(PY)

# The same with onnxruntime-gpu: usable only where CUDA 13 and cuDNN 9 are installed (~280 MB more).
bundle-gpu:
	$(PY) packaging/build.py bundle --gpu --outdir $(DIST) --python $(PY)

clean:
	rm -rf $(VENV) build dist *.egg-info
