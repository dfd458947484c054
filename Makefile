# Two commands do all the set-up on a fresh clone:
#   make run   - venv + requirements + embedded dataset + every notebook top to bottom (outputs in results/)
#   make test  - same set-up, then unit tests (not the `slow` ones) + every notebook through nbmake in the quick profile
#   make lab   - same set-up, registers the venv as a Jupyter kernel and opens JupyterLab on notebooks/
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
RESULTS := results
SOURCE ?=
DATASET ?= ucf50
MODEL ?=
KERNEL ?= har-reproduction
# Relative and ~ paths (HAR_DATASET_DIR, DATA=, SOURCE=) mean the folder make was started in, also inside a
# notebook kernel, which runs in notebooks/ (helpers.config.user_path reads this).
export HAR_CWD ?= $(CURDIR)

.PHONY: setup lab embedded run test test-all unit nbtest lint format export readme seeds bench classify data extractor clean help

help:
	@echo "make setup | lab | embedded | run | test | test-all | unit | nbtest | lint | export | readme | seeds | bench | classify SOURCE=... [MODEL=...] | data DATASET=ucf50|ucf101 | extractor | clean"

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# The venv as a Jupyter kernel ("Python (har-reproduction)"; also what VS Code lists), then JupyterLab.
lab: setup
	$(PY) -m ipykernel install --user --name $(KERNEL) --display-name "Python ($(KERNEL))"
	$(PY) -m jupyter lab notebooks

embedded: setup
	$(PY) -m helpers.synthetic data/embedded

# Executes every notebook top to bottom; executed copies go to results/notebooks/.
run: embedded
	@start=$$(date +%s); per=""; \
	mkdir -p $(RESULTS)/notebooks; \
	for nb in $(NOTEBOOKS); do \
	  echo "=== $$nb"; t0=$$(date +%s); \
	  $(PY) -m jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=14400 \
	    --output-dir $(RESULTS)/notebooks "$$nb" || exit 1; \
	  per="$$per$${per:+, }\"$$(basename $$nb .ipynb)\": $$(( $$(date +%s) - t0 ))"; \
	done; \
	end=$$(date +%s); \
	echo "{\"make_run_s\": $$((end - start)), \"notebooks_s\": {$$per}}" > $(RESULTS)/make_run.json; \
	echo "make run: $$((end - start)) s ($$per)"
	$(MAKE) readme

# What CI runs (.ci/run). Tests marked `slow` (pyproject.toml) cover opt-in paths no notebook takes,
# e.g. two-process MultiWorkerMirroredStrategy training; `make test-all` runs them too.
test: unit nbtest

test-all: setup
	$(PY) -m pytest -q tests
	$(MAKE) nbtest

unit: setup
	$(PY) -m pytest -q -m "not slow" tests

# The quick profile (HAR_QUICK=1) shrinks data and epochs; the notebooks run the same code.
nbtest: setup
	HAR_QUICK=1 $(PY) -m pytest -q --nbmake --nbmake-timeout=900 -p no:randomly $(NOTEBOOKS)

lint: setup
	$(VENV)/bin/ruff check .

format: setup
	$(VENV)/bin/ruff format helpers tests

# Copies the notebooks' #@save cells (the paper models) into helpers/models.py; a test checks they agree.
export: setup
	$(PY) scripts/export_notebooks.py

# Regenerates the README's results sections from results/*.csv (SECTIONS=leak,seeds: only those, after a partial run).
readme: setup
	$(PY) scripts/readme.py $(if $(SECTIONS),--sections $(SECTIONS))

# Seed spread: the LRCN (group protocol) and paper 000's CNN, RNN and hybrid retrained for each seed in
# HAR_SEEDS (default 27,28,29,30,31) with the notebooks' settings -> results/seeds.csv (resumable; 47 min measured on 2 busy cores).
seeds: setup
	$(PY) scripts/seeds.py
	$(MAKE) readme

# benchmarks/bench.py: the pipeline against the original code's ways; writes results/bench.json and bench.md.
bench: setup
	$(PY) -m benchmarks.bench
	$(MAKE) readme

classify: setup
	@test -n "$(SOURCE)" || { echo "usage: make classify SOURCE=<video file or URL>" >&2; exit 2; }
	$(PY) -m helpers classify "$(SOURCE)" $(if $(MODEL),--model "$(MODEL)")

# Real datasets (docs/datasets.md): download with resume, extract, validate into data/.
data: setup extractor
	$(PY) scripts/ucf_data.py download $(DATASET) --dest data

# The RAR extractor: unar (Debian/Ubuntu main). Installed with apt-get when run as root;
# otherwise run 'sudo make extractor' once (bsdtar / 7z are tried as fallbacks).
extractor:
	@if command -v unar >/dev/null || command -v unrar >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq unar; \
	else echo "make extractor: unar not found; install it once with: sudo make extractor" \
	  "(or sudo apt-get install unar / brew install unar)" >&2; fi

clean:
	rm -rf $(RESULTS) data/cache data/embedded data/embedded_quick
