# warmgrid: the two commands are `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup chromium demo test bench lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	# uv installs the same resolution as pip in a fifth of the time; pip is the fallback
	$(BIN)/python -m pip install --quiet uv && VIRTUAL_ENV=$(VENV) $(BIN)/uv pip install --quiet -e ".[test]" \
	  || $(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# The HTML pages' browser test (tests/report) drives Debian's chromium through Playwright
# (Playwright never downloads a browser here). Installed when missing and we may; else the
# test skips and says why.
CHROMIUM := /usr/bin/chromium

setup: $(STAMP) chromium

chromium:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get install -y -qq chromium >/dev/null 2>&1 || \
	    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; } || \
	    echo "warning: apt-get could not install chromium; the browser test will skip"; \
	  else \
	    echo "warning: $(CHROMIUM) is missing and cannot be installed here (needs root and apt-get); the browser test will skip"; \
	  fi; }

demo: $(STAMP)
	$(BIN)/warmgrid demo

test: setup
	$(BIN)/python -m pytest -q -n auto --dist loadfile

bench: setup
	VIRTUAL_ENV=$(VENV) $(BIN)/uv pip install --quiet -e ".[bench]" || $(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python benchmarks/run_all.py

lint: setup
	$(BIN)/ruff check --no-cache src tests benchmarks
	$(BIN)/ruff format --no-cache --check src tests benchmarks
	$(BIN)/mypy src

clean:
	rm -rf $(VENV) warmgrid-out .pytest_cache
