# The two set-up commands of the README, and what they need.
#   make demo   install narrate into .venv and render the bundled story into out/
#   make test   install narrate with its test tools into .venv and run the tests
#   make quick  the same without the tests marked slow
PYTHON ?= python3
VENV ?= .venv
STORY ?= examples/the-lamp-at-gull-point.txt

.PHONY: demo test quick lint clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/narrate render $(STORY)

test: $(VENV)/.installed
	$(VENV)/bin/python -m pytest

quick: $(VENV)/.installed
	$(VENV)/bin/python -m pytest -m "not slow"

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check narrate tests benchmarks
	$(VENV)/bin/ruff format --check narrate tests benchmarks
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) out/*/ .pytest_cache
