# herdctl — the one entry point for building, testing and packaging.
#   make build     binaries into bin/
#   make test      everything: vet, format, unit, integration (real containerd,
#                  real Claude Code CLI), the system test (a systemd-nspawn
#                  machine running herdctl.service) and bounded fuzzing;
#                  installs what it needs
#   make e2e       only the system test
#   make package   dist/herdctl_VERSION_ARCH.deb and dist/herdctl-VERSION.ARCH.rpm,
#                  and the web console's herdctl-cockpit_VERSION_all.deb and .noarch.rpm
#   make install   package, install the .deb with apt (dependencies come
#                  in), start herdctl.service with the example fleet
#   make fuzz      the fuzzers, a little longer
#   make clean

# 0.1.0+git<commits>.<sha>, or the tag's version on a tagged commit.
VERSION ?= $(shell v=$$(git describe --tags --exact-match --match 'v[0-9]*' 2>/dev/null); \
	if [ -n "$$v" ]; then echo $${v\#v}; else echo 0.1.0+git$$(git rev-list --count HEAD 2>/dev/null || echo 0).$$(git rev-parse --short HEAD 2>/dev/null || echo unknown); fi)
# sudo's secure_path leaves out /usr/local/go/bin, where Go's own tarball
# installs: `sudo make install` looks there too when go is not on PATH.
GOBIN_DIR := $(shell command -v go >/dev/null 2>&1 || { test -x /usr/local/go/bin/go && echo /usr/local/go/bin; })
ifneq ($(GOBIN_DIR),)
export PATH := $(GOBIN_DIR):$(PATH)
endif
GO      ?= $(if $(GOBIN_DIR),$(GOBIN_DIR)/go,go)
ARCH    ?= $(shell $(GO) env GOARCH)
NFPM_VERSION ?= v2.45.2
NFPM    ?= $(shell command -v nfpm || echo $(HOME)/go/bin/nfpm)
LDFLAGS := -s -w -linkmode=external -extldflags=-Wl,-z,relro,-z,now -X github.com/herdctl/herdctl/internal/version.Version=$(VERSION)
FUZZTIME ?= 15s
# The system test boots a machine per test, one after the other: over go
# test's default of 10 minutes on a busy 2-core machine. A bound, not a
# goal (docs/performance.md has the figures).
E2E_TIMEOUT ?= 45m
export HERDCTL_TEST_CACHE ?= /var/cache/herdctl-test

.PHONY: all build test unit e2e deps lint fuzz bench clean package install man

all: build

# cgo: os/user then asks NSS (LDAP, sssd) who is in group herdctl, and
# the binaries are dynamically linked like the rest of the distribution.
build:
	CGO_ENABLED=1 $(GO) build -buildmode=pie -trimpath -ldflags '$(LDFLAGS)' -o bin/ ./cmd/...

deps:
	bash scripts/deps.sh

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt: run gofmt -w on the files above'; exit 1; }
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

unit:
	$(GO) test -count=1 ./...

# A new interesting input is minimised for at most a second, so the budget
# goes to fuzzing.
FUZZFLAGS = -fuzztime $(FUZZTIME) -fuzzminimizetime 1s
fuzz:
	$(GO) test ./config -run '^$$' -fuzz '^FuzzLoad$$' $(FUZZFLAGS)
	$(GO) test ./config -run '^$$' -fuzz '^FuzzParseCron$$' $(FUZZFLAGS)
	$(GO) test ./config -run '^$$' -fuzz '^FuzzCronStandard$$' $(FUZZFLAGS)
	$(GO) test ./service/runner -run '^$$' -fuzz '^FuzzStreamJSON$$' $(FUZZFLAGS)
	$(GO) test ./importer -run '^$$' -fuzz '^FuzzReadYAML$$' $(FUZZFLAGS)
	$(GO) test ./chat -run '^$$' -fuzz '^FuzzAttachmentName$$' $(FUZZFLAGS)

e2e: deps package
	HERDCTL_E2E=1 $(GO) test -count=1 -timeout $(E2E_TIMEOUT) -v ./internal/e2e

test: deps lint build package
	HERDCTL_INTEGRATION=1 HERDCTL_E2E=1 $(GO) test -count=1 -timeout $(E2E_TIMEOUT) ./...
	$(MAKE) --no-print-directory fuzz

man:
	mkdir -p dist/man
	for f in packaging/man/*.[158]; do gzip -9n < $$f > dist/man/$$(basename $$f).gz; done
	for p in herdctl herdctl-cockpit; do \
		printf '%s (%s) unstable; urgency=medium\n\n  * Built from git %s.\n\n -- herdctl developers <herdctl@herdctl.dev>  %s\n' \
			"$$p" '$(VERSION)' "$$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
			"$$(date -R -d @$$(git log -1 --format=%ct 2>/dev/null || date +%s))" | gzip -9n > dist/changelog$${p#herdctl}.gz; \
	done

$(NFPM):
	GOBIN=$(dir $(NFPM)) $(GO) install github.com/goreleaser/nfpm/v2/cmd/nfpm@$(NFPM_VERSION)

package: build man $(NFPM)
	rm -f dist/*.deb dist/*.rpm
	VERSION='$(VERSION)' ARCH='$(ARCH)' $(NFPM) package --config nfpm.yaml --packager deb --target dist/
	VERSION='$(VERSION)' ARCH='$(ARCH)' $(NFPM) package --config nfpm.yaml --packager rpm --target dist/
	VERSION='$(VERSION)' $(NFPM) package --config cockpit/nfpm.yaml --packager deb --target dist/
	VERSION='$(VERSION)' $(NFPM) package --config cockpit/nfpm.yaml --packager rpm --target dist/
	@ls -l dist/*.deb dist/*.rpm

install:
	@command -v gcc >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libc6-dev; }
	$(MAKE) --no-print-directory package
	DEBIAN_FRONTEND=noninteractive apt-get install -y --reinstall ./dist/herdctl_*.deb
	systemctl enable --now herdctl
	systemctl --no-pager status herdctl | head -n 5
	@command -v claude >/dev/null || echo 'herdctl: installed. Agents need Claude Code on this host: npm install -g @anthropic-ai/claude-code, then put ANTHROPIC_API_KEY in /etc/herdctl/herdctl.env and run systemctl reload herdctl'

clean:
	rm -rf bin dist

# P1-P12 in the nspawn machine; bench/runner.sh is the runner alone.
bench: deps package
	bash bench/run.sh
