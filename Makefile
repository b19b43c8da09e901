# spnaudit: the two commands of the README are `make demo` and `make test`.
SHELL := /bin/bash
GO ?= go
export PATH := $(PATH):/usr/local/go/bin

VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -s -w \
	-X github.com/prometheus/common/version.Version=$(VERSION) \
	-X github.com/prometheus/common/version.Revision=$(REVISION)

.PHONY: build test test-unit lab-up lab-down demo demo-down bench fuzz

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/spnaudit ./cmd/spnaudit

# Everything CI runs: installs Samba, Prometheus and friends when missing,
# brings up the lab DC and runs every test, integration tests included.
test:
	bash lab/install.sh
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 25m ./...

# Unit tests only (no root, no Samba): integration tests skip.
test-unit:
	$(GO) test -race -count=1 -short ./...

lab-up:
	bash lab/install.sh
	./lab/up

lab-down:
	./lab/down

# Issue 9's figures: spnaudit against grep | sort | uniq and ldapsearch on the
# same data in the same run, medians of 3, each ratio with its goal.
# SPNBENCH_SCALE=0.01 for a quick run; SPNBENCH_ONLY=realistic,flood,linear,
# live,daemon picks scenarios (internal/bench). The Go benchmarks follow.
bench: build
	bash lab/install.sh
	$(GO) run ./internal/bench -bin bin/spnaudit
	$(GO) test -run '^$$' -bench . -benchmem ./...

demo: build
	bash lab/install.sh
	bash deploy/demo/demo.sh up

demo-down:
	bash deploy/demo/demo.sh down
