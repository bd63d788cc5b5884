# herdctl — the one entry point for building, testing and packaging.
#   make build     binaries into bin/
#   make test      everything: vet, format, unit, integration (real containerd,
#                  real Claude Code CLI), the system test (a systemd-nspawn
#                  machine running herdctl.service) and bounded fuzzing;
#                  installs what it needs
#   make e2e       only the system test
#   make fuzz      the fuzzers, a little longer
#   make clean

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GO      ?= go
LDFLAGS := -s -w -X github.com/herdctl/herdctl/internal/version.Version=$(VERSION)
FUZZTIME ?= 15s
export HERDCTL_TEST_CACHE ?= /var/cache/herdctl-test

.PHONY: all build test unit e2e deps lint fuzz bench clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/ ./cmd/...

deps:
	bash scripts/deps.sh

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt: run gofmt -w on the files above'; exit 1; }
	$(GO) vet ./...

unit:
	$(GO) test -count=1 ./...

fuzz:
	$(GO) test ./config -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME)
	$(GO) test ./config -run '^$$' -fuzz '^FuzzParseCron$$' -fuzztime $(FUZZTIME)
	$(GO) test ./service -run '^$$' -fuzz '^FuzzStreamJSON$$' -fuzztime $(FUZZTIME)

e2e: deps
	HERDCTL_E2E=1 $(GO) test -count=1 -v ./internal/e2e

test: deps lint build
	HERDCTL_INTEGRATION=1 HERDCTL_E2E=1 $(GO) test -count=1 ./...
	$(MAKE) --no-print-directory fuzz

clean:
	rm -rf bin dist

bench: build
	bash bench/runner.sh
