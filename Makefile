# The course's commands. Each one sets up the local virtual environment (.venv) first;
# when it is already set up and pyproject.toml has not changed, that step is skipped.
#   make lab     set up, then open the course in JupyterLab
#   make test    set up, then run the whole test suite (unit, widget, notebook and browser tests)
#   make bench   set up, then measure the course (bench/results.md)
#   make slides  set up, then build executed reveal.js decks of every notebook in build/slides/
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: lab test bench slides setup clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m course_lib kernel >/dev/null  # the course kernel, with the CPU thread policy
	touch $@

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m bench

slides: $(STAMP)
	$(BIN)/python tools/build_slides.py

clean:
	rm -rf $(VENV) build test-artifacts
