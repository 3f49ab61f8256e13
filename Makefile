# ecgwm: the two commands a new user needs are `make book` and `make test`.
# Both create .venv (python3 -m venv) and install the pinned set on first use;
# later runs reinstall only when requirements.txt or pyproject.toml changed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MATHJAX_VERSION := 3.2.2
MATHJAX := _static/mathjax/tex-mml-chtml.js
NB ?= book/01_data.ipynb

.PHONY: help venv models book book-full test test-unit chapter clean mutation figures folds budget repository

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

venv: $(STAMP)  ## create .venv with the pinned set (only when needed)

$(MATHJAX):  ## MathJax 3 from the npm registry, served by the book itself (no CDN)
	rm -rf .cache/npm _static/mathjax && mkdir -p .cache/npm _static/mathjax
	npm install --silent --no-audit --no-fund --prefix .cache/npm mathjax@$(MATHJAX_VERSION)
	cp -r .cache/npm/node_modules/mathjax/es5/. _static/mathjax/

models: $(STAMP)  ## train the world models the chapters use, once (cached in $ECGWM_CACHE, default ~/.cache/ecgwm)
	$(BIN)/python -c "from ecgwm_core.evaluation.study import train_book_models; train_book_models()"

book: $(STAMP) $(MATHJAX) models  ## execute every chapter (quick mode) and write _build/html
	$(BIN)/jupyter-book build . -W --keep-going
	@echo "Book written to _build/html/index.html"

test: $(STAMP) $(MATHJAX) models  ## run every test: unit tests, notebooks (nbval) and the book build
	$(BIN)/python -m pytest

test-unit: $(STAMP)  ## unit tests only (no notebooks, no book build)
	$(BIN)/python -m pytest tests -m "not book"

chapter: $(STAMP)  ## check one chapter against its saved outputs: make chapter NB=book/01_data.ipynb
	$(BIN)/python -m pytest --nbval-lax $(NB) --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider

book-full: $(STAMP)  ## run one chapter at paper scale (QUICK=False) into _build/full/
	mkdir -p _build/full
	$(BIN)/papermill $(NB) _build/full/$(notdir $(NB)) -p QUICK False

mutation: $(STAMP)  ## mutation testing of the core numerics (mutmut, ~1 h; not part of test): MUTATION_ARGS="--sample 8"
	$(BIN)/python benchmarks/mutation.py $(MUTATION_ARGS)

clean:  ## remove build outputs (keeps .venv)
	rm -rf _build .cache/npm _static/mathjax

FIGURES_DIR ?= _build/figures

figures: $(STAMP)  ## every book figure as PNG + PDF with manifest.json/.csv: make figures [FIGURES_DIR=DIR] [PAPER=1]
	$(BIN)/ecgwm figure all --out $(FIGURES_DIR) $(if $(PAPER),--paper,)

folds: models  ## the chapter-08 forecast tables over all 4 folds in quick mode -> benchmarks/folds.md
	$(BIN)/python benchmarks/eval_folds.py --out benchmarks/folds.md

budget: $(STAMP)  ## time and peak memory of every chapter in quick mode -> benchmarks/budget.md
	$(BIN)/python benchmarks/bench_book.py --out benchmarks/budget.md

repository:  ## point Binder/repository buttons at ECGWM_REPOSITORY_URL / ECGWM_REPOSITORY_BRANCH (_config.yml)
	$(PYTHON) .github/set_repository.py
