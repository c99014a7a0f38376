# Two commands do all setup on a fresh machine: `make report` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONFIG ?= icp.yml

.DEFAULT_GOAL := help
.PHONY: help report test lab bench browser lint clean hooks

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[test,spark]'
	@$(MAKE) --no-print-directory hooks BIN=$(BIN)
	touch $(STAMP)

# nbstripout as a git filter: notebooks are staged without outputs, so a notebook saved
# in JupyterLab never shows up as a thousand-line diff (.gitattributes names the files).
# --keep-id: the notebooks' cell ids are stable names, not renumbered.
NBSTRIPOUT = "$(abspath $(BIN))/python" -m nbstripout --keep-id
hooks: ## install the nbstripout git filter for notebooks (make does this when it sets up .venv)
	@if git rev-parse --git-dir >/dev/null 2>&1; then \
	  git config filter.nbstripout.clean '$(NBSTRIPOUT)' && \
	  git config filter.nbstripout.smudge cat && \
	  git config filter.nbstripout.required true && \
	  git config diff.ipynb.textconv '$(NBSTRIPOUT) -t' && \
	  echo "nbstripout git filter installed (.gitattributes)"; \
	else echo "not a git checkout: no nbstripout filter installed"; fi

report: $(STAMP) ## run the latest quarter (or QUARTERS=2025Q1:2026Q3 WORKERS=2) and write reports/<quarter>/index.html
	$(BIN)/icp run --config $(CONFIG) $(if $(QUARTERS),--quarters $(QUARTERS) --workers $(or $(WORKERS),1))

test: $(STAMP) browser ## run the whole test suite
	$(BIN)/python -m pytest

lab: $(STAMP) ## open JupyterLab on the notebooks with the project's kernel
	$(BIN)/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

bench: $(STAMP) ## run the benchmarks and write bench/RESULTS.md
	$(BIN)/python -m bench.run_all

lint: $(STAMP) ## ruff on code and notebooks
	$(BIN)/ruff check icp_helpers tests bench notebooks

browser: ## install Debian's headless Chromium where we can (root); browser tests skip without it
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "could not install chromium; browser tests will be skipped"; \
	  else echo "not root: install Debian's chromium to run the browser tests"; fi; }

clean: ## remove the virtual environment and rendered reports
	rm -rf $(VENV) reports/*/
