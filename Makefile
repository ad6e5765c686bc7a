# The course's commands. Each one sets up the local virtual environment (.venv) first;
# when it is already set up and pyproject.toml has not changed, that step is skipped.
#   make lab     set up, then open the course in JupyterLab (as root it adds --allow-root; token auth stays on)
#                PORT=8888 and LAB_ARGS="..." for containers, e.g. make lab LAB_ARGS="--ip 0.0.0.0 --no-browser"
#   make test    set up, then run the whole test suite (unit, widget, notebook and browser tests)
#   make bench   set up, then measure the course (bench/results.md)
#   make slides  set up, then build executed reveal.js decks of every notebook in build/slides/
#   make labs    set up, then generate the graded labs' student versions (build/release/) and the instructor's
#                nbgrader course folder (build/labs/) from labs/ (README "Grading")
#   make site    set up, then build the course website in build/site/ from the executed notebooks (offline;
#                preview: cd build/site && python -m http.server)
#   make present NB=05   set up, then open lecture 05 as a live RISE slideshow in JupyterLab, run from a
#                working copy in presenting/ (the course's notebooks are never written to); Ctrl+Shift+Enter
#                runs every cell, T opens the speaker notes, Q leaves for JupyterLab
#   make warmup  before class: load the libraries and checkpoints the first demo needs
#   make hub     (as root) build the class environment under /opt, then start a JupyterHub for a class
#                settings: hub/jupyterhub_config.py, e.g. make hub HUB_PORT=80 HUB_ADMIN=smith
#   make hub-publish   publish this checkout's notebooks to the hub's students (nbgitpuller)
#   make bench-hub     (as root) load-test the hub with 1..16 simulated students (bench/results.md)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT     ?= 8888
LAB_ARGS ?=

.PHONY: lab labs test bench slides site setup clean present warmup hub hub-setup hub-publish bench-hub

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m course_lib kernel >/dev/null  # the course kernel, with the CPU thread policy
	touch $@

lab: $(STAMP)
	@ROOT_ARG=""; \
	if [ "$$(id -u)" = 0 ]; then \
	  ROOT_ARG="--allow-root"; \
	  echo "make lab: running as root (a container?), so JupyterLab gets --allow-root; token authentication stays on."; \
	fi; \
	echo "make lab: $(BIN)/jupyter lab --port $(PORT) $$ROOT_ARG $(LAB_ARGS) notebooks/"; \
	exec $(BIN)/jupyter lab --port $(PORT) $$ROOT_ARG $(LAB_ARGS) notebooks/

present: $(STAMP)
	@if [ -z "$(NB)" ]; then \
	  echo "make present: say which lecture, e.g. make present NB=05 (one of: $$(cd notebooks && ls [0-9][0-9]_*.ipynb | cut -c1-2 | tr '\n' ' '))"; exit 2; \
	fi
	exec $(BIN)/python -m course_lib present $(NB) --port $(PORT) $(LAB_ARGS)

warmup: $(STAMP)
	$(BIN)/python -m course_lib warmup

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile

bench: $(STAMP)
	$(BIN)/python -m bench

slides: $(STAMP)
	$(BIN)/python tools/build_slides.py

site: $(STAMP)
	$(BIN)/python tools/build_site.py

HUB_ENV ?= /opt/course-hub/env
export HUB_ENV

hub-setup:
	bash hub/setup.sh

hub: hub-setup
	exec $(HUB_ENV)/bin/jupyterhub -f hub/jupyterhub_config.py

hub-publish:
	bash hub/setup.sh publish

bench-hub: $(STAMP) hub-setup
	$(BIN)/python -m bench.hub

clean:
	rm -rf $(VENV) build test-artifacts

labs: $(STAMP)
	$(BIN)/python -m course_lib.grading release
