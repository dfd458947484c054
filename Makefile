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

.PHONY: setup check-python lab embedded run test test-all unit nbtest lint format export readme seeds bench classify train data extractor clean help

help:
	@echo "make setup | check-python | lab | embedded | run | test | test-all | unit | nbtest | lint | export | readme | seeds | bench | classify SOURCE=... [MODEL=...] | train DATA=... [ARGS=...] | data DATASET=ucf50|ucf101 | extractor | clean"

setup: $(STAMP)

# The interpreter must be one pyproject.toml's requires-python allows (TensorFlow has no wheel for the others):
# checked before the venv is made, with the fix in the message. Only the version is asked of $(PYTHON).
CHECK_PYTHON = v=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) \
	  || { echo "make: $(PYTHON) not found; name an installed Python, e.g. make $(or $(MAKECMDGOALS),run) PYTHON=python3.12" >&2; exit 2; }; \
	spec=$$(sed -n 's/^requires-python *= *"\(.*\)".*/\1/p' pyproject.toml); \
	awk -v v="$$v" -v spec="$$spec" 'function n(x, a) { split(x, a, "."); return a[1] * 1000 + a[2] } \
	  BEGIN { k = split(spec, c, ","); for (i = 1; i <= k; i++) { gsub(/ /, "", c[i]); \
	    if (c[i] ~ /^>=/ && n(v) < n(substr(c[i], 3))) exit 1; if (c[i] ~ /^</ && c[i] !~ /^<=/ && n(v) >= n(substr(c[i], 2))) exit 1 } }' \
	  || { echo "make: $(PYTHON) is Python $$v, but this project needs Python $$spec (requires-python in pyproject.toml:" \
	    "TensorFlow's wheels); run again with PYTHON=python3.12, e.g. make $(or $(MAKECMDGOALS),run) PYTHON=python3.12" >&2; exit 2; }

check-python:
	@$(CHECK_PYTHON)

$(STAMP): requirements.txt pyproject.toml
	@$(CHECK_PYTHON)
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

# Your own videos (<DATA>/<ClassName>/<videos>) -> results/<dataset>/models/train/: model, card, report (helpers.own_videos);
# ARGS passes options, e.g. ARGS="--model convlstm --epochs 20 --export tflite".
train: setup
	@test -n "$(DATA)" || { echo "usage: make train DATA=<folder of class folders> [ARGS=\"--model lrcn --epochs N\"]" >&2; exit 2; }
	$(PY) -m helpers train "$(DATA)" $(ARGS)

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
