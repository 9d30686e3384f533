# Two entry points (see README): `make dev` runs the local stack, `make test` runs the test suite.
# Both create .venv and install the project into it on first use (again whenever pyproject.toml changes).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev test lint bench screenshots install clean

# The opencv-python stand-in goes in first: it makes rapidocr's `opencv-python` requirement resolve to
# opencv-python-headless (see packaging/opencv-python-headless-shim). A venv that had the real opencv-python loses
# the cv2 files it shared with the headless build when the stand-in replaces it: the import check puts them back.
SHIM := packaging/opencv-python-headless-shim

$(STAMP): pyproject.toml setup.py $(SHIM)/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet ./$(SHIM)
	$(BIN)/python -c "import cv2" 2>/dev/null || $(BIN)/python -m pip install --quiet --force-reinstall --no-deps opencv-python-headless
	$(BIN)/python -m pip install --quiet -e '.[dev,test]'
	touch $(STAMP)

install: $(STAMP)

dev: $(STAMP)
	$(BIN)/extraction-pipeline dev

test: $(STAMP)
	$(BIN)/ruff check extraction_pipeline extraction_pipeline_tests benchmarks
	$(BIN)/python -m pytest --cov=extraction_pipeline --cov-report=term --cov-fail-under=80 --durations=25 $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check extraction_pipeline extraction_pipeline_tests benchmarks
	$(BIN)/ruff format --check extraction_pipeline extraction_pipeline_tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/extractor_throughput.py

# The README's pictures of the Dagster UI (needs headless Chromium: `sudo apt-get install -y chromium`).
screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) .state .coverage .pytest_cache
