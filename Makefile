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

# Unit tests only: -short skips every integration test (labtest.SkipShort:
# the lab DC, end-to-end runs, the demo), even as root with Samba installed.
# Static checkers found on the PATH (promtool, systemd-analyze) still run.
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

# Every fuzz target (func Fuzz* in a _test.go file, found by name, so a new
# one joins) for FUZZTIME each, one at a time: go test -fuzz takes one package
# and one target per run. The first crash stops the run; go test saves its
# input under the package's testdata/fuzz, which then replays in every test.
FUZZTIME ?= 20s
fuzz:
	@set -e; for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
		for target in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$dir/*_test.go); do \
			echo "fuzz: $$dir $$target for $(FUZZTIME)"; \
			$(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) $$dir; \
		done; \
	done

demo: build
	bash lab/install.sh
	bash deploy/demo/demo.sh up

demo-down:
	bash deploy/demo/demo.sh down
