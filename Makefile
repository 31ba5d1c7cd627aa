# Atoll — the two commands of the README are `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv/bin
DATA ?= data

.PHONY: setup run test check unit kubectl-cmd bench clean

setup:
	@scripts/setup.sh

run: setup
	$(VENV)/atoll up --data-dir $(DATA)

check: setup
	$(VENV)/ruff check src tests benchmarks
	$(VENV)/ruff format --check src tests benchmarks
	$(VENV)/mypy
	$(VENV)/lint-imports
	cd console && npm run --silent lint && npm run --silent typecheck
	@start=$$(date +%s); cd console && npx vitest run --reporter=default; rc=$$?; \
	echo "suite console-unit took $$(( $$(date +%s) - start ))s"; exit $$rc

unit: setup
	@start=$$(date +%s); \
	$(VENV)/pytest -n 2 -m "not kubectl_cmd" -q; rc=$$?; \
	echo "suite unit took $$(( $$(date +%s) - start ))s"; exit $$rc

kubectl-cmd: setup
	@scripts/kubectl-cmd-tests.sh fetch
	@start=$$(date +%s); \
	$(VENV)/pytest -n 2 -m kubectl_cmd -q; rc=$$?; \
	echo "suite kubectl-cmd took $$(( $$(date +%s) - start ))s"; exit $$rc

test: check unit kubectl-cmd

bench: setup
	$(VENV)/python -m benchmarks
	# Issue 2's memory target is the API server's own: the same fill and lists, no controllers.
	$(VENV)/python -m benchmarks --only lists --only memory --controllers ''

clean:
	rm -rf .venv .tools .cache
