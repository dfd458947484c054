# Two commands do all the set-up on a fresh clone:
#   make run   - venv + requirements + embedded dataset + every notebook top to bottom (outputs in results/)
#   make test  - same set-up, then ruff (make lint), unit tests (not the `slow` ones) + every notebook through nbmake in the quick profile
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

.PHONY: setup check-python lab embedded run test test-all unit nbtest lint format export readme seeds bench cpu-check classify train data extractor browser clean help

help:
	@echo "make setup | check-python | lab | embedded | run | test | test-all | unit | nbtest | lint | export | readme | seeds | bench | cpu-check | classify SOURCE=... [MODEL=...] | train DATA=... [ARGS=...] | data DATASET=ucf50|ucf101 | extractor | browser | clean"
	@echo "make run [FORCE=1] [QUICK=1] [JOBS=1|2]: only the notebooks changed since their last successful run (and those reading their outputs)"

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
	$(PY) scripts/embedded.py $(EMBEDDED_DIR) $(if $(RUN_QUICK),--quick)

# Executes the notebooks top to bottom with papermill (executed copies in results/notebooks/), incrementally:
# make's own rules over stamp files, one per notebook, written only after a successful execution. A notebook
# runs again when it, the package (helpers/*.py, pyproject.toml, requirements.txt), the data (the embedded
# dataset's completion marker, rewritten only when its generator settings change; or HAR_DATASET_DIR's folder
# and class folders) or a notebook whose outputs it reads (NB_READS_* below) changed since that stamp.
# FORCE=1 reruns all; QUICK=1 (or HAR_QUICK=1) runs the quick profile with its own stamps (results/quick/).
# NBEXEC is the executing command (called as NBEXEC IN.ipynb OUT.ipynb; tests replace it).
FORCE ?=
QUICK ?=
# JOBS=2 (the default with two or more CPUs) runs notebooks that do not read each other's outputs side by side
# (make -j2 over the same rules); JOBS=1 runs one at a time. The numbers stay those of JOBS=1: each kernel keeps
# TensorFlow's thread count (one per core), which is what fixes the order of its sums; the tables several
# notebooks fill are written under a lock (helpers.results.update_table). The notebooks' own timings (ms per
# step, training seconds) then include the other notebook's load. On 2 cores the ConvLSTM's training leaves part
# of the second core idle (top, during a full run): side by side fills it.
JOBS ?= $(if $(filter-out 0 1,$(shell getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)),2,1)
NB_TIMEOUT ?= 14400
RUN_QUICK := $(filter 1 true yes True TRUE Yes YES,$(QUICK) $(HAR_QUICK))
RUN_FORCE := $(filter-out 0 no false False FALSE,$(FORCE))
EMBEDDED_DIR := data/embedded$(if $(RUN_QUICK),_quick)
RUN_DATA := $(if $(HAR_DATASET_DIR),$(HAR_DATASET_DIR) $(wildcard $(HAR_DATASET_DIR)/*/),$(EMBEDDED_DIR)/.complete)
# The folder the notebooks write to (stamps, executed copies, make_run.json go there too) is
# helpers.config.project_paths' (HAR_HOME, HAR_DATASET_DIR's dataset_key, the profile): asked of PATHS_PY once, when
# the `run` recipe first needs it (after `setup`: `make help` needs no venv), and handed to the sub-make whose rules
# name the stamps in it. PATHS_PY is an interpreter that imports helpers (tests replace PY with `true`).
PATHS_PY ?= $(PY)
ifeq ($(origin RUN_DIR),undefined)
RUN_DIR = $(eval RUN_DIR := $(shell HAR_HOME='$(HAR_HOME)' HAR_DATASET_DIR='$(HAR_DATASET_DIR)' HAR_CWD='$(HAR_CWD)' \
  $(PATHS_PY) -c 'from helpers.config import project_paths; \
  print(project_paths(quick=$(if $(RUN_QUICK),True,False)).results_dir)'))$(RUN_DIR)
endif
NB_STAMPS_DIR = $(RUN_DIR)/.stamps
NB_NAMES := $(basename $(notdir $(NOTEBOOKS)))
NB_STAMPS = $(NB_NAMES:%=$(NB_STAMPS_DIR)/%.done)
NB_CODE := $(sort $(wildcard helpers/*.py)) pyproject.toml requirements.txt
NBEXEC ?= $(PY) -m papermill --cwd notebooks --execution-timeout $(NB_TIMEOUT) --no-progress-bar \
  $(if $(RUN_QUICK),-p QUICK True)
# Which notebooks' outputs (saved models, tables) each notebook reads: a new run of those reruns it.
NB_READS_02_convlstm := 01_lrcn
NB_READS_04_predict := 01_lrcn
NB_READS_05_model_comparison := 01_lrcn 02_convlstm 03_cnn_rnn_hybrid 10_transfer
NB_READS_06_deployment := 01_lrcn 02_convlstm 05_model_comparison
NB_READS_07_explainability := 05_model_comparison
NB_READS_09_leak := 01_lrcn
# The notebooks in an order where each comes after the notebooks it reads, else in numbered order (10 before 05):
# nbtest runs them in it (make run's rules find it themselves).
nb_after_reads = $(foreach r,$(filter $(NB_NAMES),$(NB_READS_$(1))),$(call nb_after_reads,$(r))) $(1)
first_seen = $(if $(1),$(firstword $(1)) $(call first_seen,$(filter-out $(firstword $(1)),$(1))))
NB_ORDER = $(strip $(call first_seen,$(foreach nb,$(NB_NAMES),$(call nb_after_reads,$(nb)))))

.PHONY: run-notebooks run-force

run: $(if $(HAR_DATASET_DIR),setup,embedded)
	@test -z "$(HAR_DATASET_DIR)" || { d='$(HAR_DATASET_DIR)'; cd "$(HAR_CWD)" && test -d "$${d/#\~/$$HOME}"; } || \
	  { echo "make run: HAR_DATASET_DIR=$(HAR_DATASET_DIR) is not a folder" >&2; exit 2; }
	@test -n "$(RUN_DIR)" || { echo "make run: $(PATHS_PY) did not name the results folder" \
	  "(helpers.config.project_paths; see the error above)" >&2; exit 1; }
	@mkdir -p $(NB_STAMPS_DIR) $(RUN_DIR)/notebooks && touch $(NB_STAMPS_DIR)/.invocation
	@head -1 /proc/stat > $(NB_STAMPS_DIR)/.cpu_start 2>/dev/null || rm -f $(NB_STAMPS_DIR)/.cpu_start
	@$(MAKE) --no-print-directory -j$(JOBS) run-notebooks 'RUN_DIR=$(RUN_DIR)' RUN_STARTED=$$(date +%s)
	$(if $(RUN_QUICK)$(HAR_DATASET_DIR),,$(MAKE) readme)

# Only reached without the data (a dry run on a fresh clone): `embedded` renders it before the notebooks run.
$(EMBEDDED_DIR)/.complete:
	$(PY) scripts/embedded.py $(EMBEDDED_DIR) $(if $(RUN_QUICK),--quick)

$(foreach nb,$(NB_NAMES),$(if $(filter-out $(NB_NAMES),$(NB_READS_$(nb))),\
  $(warning NB_READS_$(nb): no notebook $(filter-out $(NB_NAMES),$(NB_READS_$(nb))) (renamed? update the Makefile))))

# The sub-make's rules (`run` hands it RUN_DIR): they name the stamps, so RUN_DIR must be known when they are read.
ifeq ($(origin RUN_DIR),command line)
$(NB_STAMPS_DIR):
	mkdir -p $@ $(RUN_DIR)/notebooks

$(foreach nb,$(NB_NAMES),\
  $(eval $(NB_STAMPS_DIR)/$(nb).done: $(patsubst %,$(NB_STAMPS_DIR)/%.done,$(filter $(NB_NAMES),$(NB_READS_$(nb))))))

# The stamp holds the seconds of that execution; $? names what changed since the last one.
$(NB_STAMPS_DIR)/%.done: notebooks/%.ipynb $(NB_CODE) $(RUN_DATA) $(if $(RUN_FORCE),run-force) | $(NB_STAMPS_DIR)
	@echo "=== run $*: $(if $(RUN_FORCE),FORCE=1,$(if $(wildcard $@),changed: $(patsubst $(NB_STAMPS_DIR)/%.done,%,$?),no successful run recorded))"
	@t0=$$(date +%s); \
	$(if $(RUN_QUICK),HAR_QUICK=1 )$(NBEXEC) notebooks/$*.ipynb $(RUN_DIR)/notebooks/$*.ipynb && \
	echo $$(( $$(date +%s) - t0 )) > $@.tmp && mv $@.tmp $@

run-force:

# Says what ran and what was skipped (and since when it is up to date); writes make_run.json: this
# invocation's seconds, and the seconds of the last real execution of every notebook, JOBS, and (Linux) how busy
# the machine's CPUs were over the invocation (every process, not only the notebooks') and the share stolen by the
# hypervisor (/proc/stat's cpu line at the start and at the end): a timing from a busy or stolen machine says so.
run-notebooks: $(NB_STAMPS)
	@ran=""; skipped=""; per=""; \
	for nb in $(NB_NAMES); do \
	  stamp=$(NB_STAMPS_DIR)/$$nb.done; \
	  if [ "$$stamp" -nt $(NB_STAMPS_DIR)/.invocation ]; then ran="$$ran$${ran:+, }\"$$nb\""; \
	  else skipped="$$skipped$${skipped:+, }\"$$nb\""; \
	    echo "skip $$nb: up to date (last run $$(date -r $$stamp '+%Y-%m-%d %H:%M:%S'))"; fi; \
	  per="$$per$${per:+, }\"$$nb\": $$(cat $$stamp)"; \
	done; \
	total=$$(( $$(date +%s) - $(or $(RUN_STARTED),$$(date +%s)) )); \
	cpu=$$(head -1 /proc/stat 2>/dev/null | awk 'NR == FNR { for (i = 2; i <= 9; i++) a[i] = $$i; next } \
	  { t = 0; for (i = 2; i <= 9; i++) { d[i] = $$i - a[i]; t += d[i] } \
	    if (t > 0) printf ", \"cpu_busy_pct\": %.1f, \"cpu_steal_pct\": %.1f", 100 * (t - d[5] - d[6]) / t, 100 * d[9] / t }' \
	  $(NB_STAMPS_DIR)/.cpu_start - 2>/dev/null); \
	echo "{\"make_run_s\": $$total, \"jobs\": $(JOBS), \"notebooks_s\": {$$per}, \"ran\": [$$ran], \"skipped\": [$$skipped]$$cpu}" \
	  > $(RUN_DIR)/make_run.json.tmp && mv $(RUN_DIR)/make_run.json.tmp $(RUN_DIR)/make_run.json; \
	echo "make run: $$total s; ran [$$ran], skipped [$$skipped]; $(RUN_DIR)/make_run.json"
endif

# What CI runs (.ci/run): ruff first, then the tests. Tests marked `slow` (pyproject.toml) cover opt-in paths no notebook takes,
# e.g. two-process MultiWorkerMirroredStrategy training; `make test-all` runs them too.
test: lint unit nbtest

test-all: setup browser
	$(PY) -m pytest -q tests
	$(MAKE) nbtest

unit: setup browser
	$(PY) -m pytest -q -m "not slow" tests

# The quick profile (HAR_QUICK=1) shrinks data and epochs; the notebooks run the same code.
nbtest: setup
	HAR_QUICK=1 $(PY) -m pytest -q --nbmake --nbmake-timeout=900 -p no:randomly $(NB_ORDER:%=notebooks/%.ipynb)

# ruff over the package, the application (har_app/), the tools, the tests, the notebooks (pyproject.toml's
# extend-include reads .ipynb) and studies/.
lint: setup
	$(VENV)/bin/ruff check helpers har_app scripts benchmarks tests notebooks studies

format: setup
	$(VENV)/bin/ruff format helpers har_app tests

# Writes helpers/paper_models.py and studies/*.py (wholly generated) from the notebooks' #@save definitions; a test
# checks they agree.
export: setup
	$(PY) scripts/export_notebooks.py

# Regenerates the README's results sections from results/*.csv (SECTIONS=leak,seeds: only those, after a partial run).
readme: setup
	$(PY) scripts/readme.py $(if $(SECTIONS),--sections $(SECTIONS))

# Seed spread: the LRCN (group and random_clip protocols), the ConvLSTM (group) and paper 000's CNN, RNN and hybrid
# retrained for each seed in HAR_SEEDS (default 27,28,29,30,31) with the notebooks' settings -> results/seeds.csv
# (resumable; each row's `seconds` column is its measured training time).
seeds: setup
	$(PY) scripts/seeds.py
	$(MAKE) readme

# benchmarks/bench.py: the pipeline against the original code's ways; writes results/bench.json and bench.md.
bench: setup
	$(PY) -m benchmarks.bench
	$(MAKE) readme

# Which layers and models move with oneDNN's instruction set, the thread count or oneDNN off, and what each
# setting costs (benchmarks/cpu_dependence.py, ~10 min on 2 cores) -> results/cpu_dependence.csv, the README section
cpu-check: setup
	$(PY) -m benchmarks.cpu_dependence
	$(PY) scripts/readme.py --sections cpu_dependence

classify: setup
	@test -n "$(SOURCE)" || { echo "usage: make classify SOURCE=<video file or URL>" >&2; exit 2; }
	$(PY) -m helpers classify "$(SOURCE)" $(if $(MODEL),--model "$(MODEL)")

# Your own videos (<DATA>/<ClassName>/<videos>) -> results/<dataset>/models/train/: model, card, report (har_app.own_videos);
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

# Chromium and its WebDriver for tests/test_demo.py's browser test (Debian's chromium, chromium-driver): installed
# with apt-get when run as root; otherwise, or when apt-get fails, a note and that test skips with its reason.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; } \
	    || echo "make browser: apt-get could not install chromium; the browser test will skip" >&2; \
	else echo "make browser: chromium or chromedriver not found; the browser test will skip (install once with:" \
	  "sudo make browser, or sudo apt-get install chromium chromium-driver)" >&2; fi

clean:
	rm -rf $(RESULTS) data/cache data/embedded data/embedded_quick
