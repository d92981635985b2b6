# Backdrop — set-up, build, test and benchmarks. `make help` lists the targets.
SHELL := /bin/bash
SWIFT ?= swift
SYSTEM_PACKAGES := pkg-config libopenblas-dev libpng-dev libsqlite3-dev
PKGCONFIG_MODULES := openblas libpng sqlite3
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN := .build/release
DATASET ?= Results/datasets/builtin
BENCH_OUT ?= .build/bench

.PHONY: help setup build test bench parity reproduce-table dataset clean

help:
	@echo "make reproduce-table  set up, build, generate the built-in dataset (the table needs the harness: see README)"
	@echo "make test             set up and run the whole test suite"
	@echo "make bench            Backdrop vs PyTorch on the reference workload, side by side"
	@echo "make parity           compare two SimCLR steps with PyTorch on a fresh dump (needs torch)"
	@echo "make setup | build | dataset | clean"

## Installs the system libraries with apt-get when pkg-config cannot find them.
setup:
	@if ! command -v pkg-config >/dev/null || ! pkg-config --exists $(PKGCONFIG_MODULES); then \
	  echo "installing $(SYSTEM_PACKAGES)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(SYSTEM_PACKAGES); \
	fi
	@command -v $(SWIFT) >/dev/null || { echo "Swift 6 is required: install a toolchain from swift.org and put swift on PATH"; exit 1; }

build: setup
	$(SWIFT) build -c release

test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

dataset: build
	@if [ -d "$(DATASET)/train" ]; then echo "built-in dataset present in $(DATASET)"; \
	else $(BIN)/backdrop dataset generate --out $(DATASET); fi

reproduce-table: dataset
	@echo
	@echo "The dataset is in $(DATASET). Training the matrix and rendering the table need the"
	@echo "experiment harness (backdrop reproduce), which is not part of this version yet: see README."
	@exit 2

## Side-by-side benchmark: for each row PyTorch runs, then Backdrop, each in its own process.
bench: setup
	$(SWIFT) build -c release --product backdrop-bench
	@mkdir -p $(BENCH_OUT)
	@if python3 -c 'import torch' 2>/dev/null; then \
	  $(BIN)/backdrop-bench suite --json-out $(BENCH_OUT)/bench.json $(BENCH_ARGS); \
	else \
	  echo "PyTorch is not installed (pip install torch): printing Backdrop's figures only"; \
	  $(BIN)/backdrop-bench suite --torch-script '' --json-out $(BENCH_OUT)/bench.json $(BENCH_ARGS); \
	fi

parity: setup
	$(SWIFT) build -c release --product backdrop-bench
	python3 scripts/torch_ref.py --dump $(BENCH_OUT)/parity --dump-config $${CONFIG:-8:32:6:16} --dump-seed $${SEED:-3}
	$(BIN)/backdrop-bench parity $(BENCH_OUT)/parity

clean:
	rm -rf .build
