# Two commands get a newcomer from clone to a rendered demo: `make test` and `make demo`.
# Both create .venv from plain python3 and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo lint format typecheck unit node-test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,aep]"
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	QT_QPA_PLATFORM=offscreen PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -n 2 -q

node-test:
	@if command -v node >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory -C ae_bridge_jsx test; \
	else \
		echo "node not found: SKIPPING the ExtendScript bridge tests (install Node.js to run them)"; \
	fi

test: lint typecheck unit node-test

demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/stmpo demo

bench: $(STAMP)
	@for script in bench/bench_*.py; do \
		echo "== $$script"; \
		PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python $$script || exit 1; \
	done

clean:
	rm -rf $(VENV) build dist demo-out *.egg-info app/*.egg-info
