# Chronicle. `make run` sets up and starts a site; `make test` runs every test.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
DATA    ?= ./data
ADDR    ?= 127.0.0.1:8080

.PHONY: build run test test-short bench deps fmt vet clean

build: bin/chronicle

bin/chronicle: $(shell find . -name '*.go' -not -path './bin/*') go.mod go.sum $(wildcard webui/*.yaml)
	$(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $@ .

# Installs what is missing (Debian/Ubuntu), builds, creates the first admin
# account if there is none, and starts the daemon with embedded NATS.
run:
	DATA=$(DATA) ADDR=$(ADDR) ./scripts/run

# Every test, with the race detector: real git, real nats-server, real HTTP,
# Debian's chromium (axe-core) and the Nu Html Checker (from node_modules).
# Four tests at a time within a package: most of the daemon's wait on a
# daemon, git or a browser rather than use a core. Benchmarks run once
# each in the same pass, so that they keep working without a second build
# of every test binary; -short makes them tiny (no test looks at it), and
# `make bench` or the README's commands give their figures.
test: vet node_modules
	$(GO) test -race -count=1 -parallel 4 -timeout 20m -short -bench . -benchtime 1x ./...

test-short:
	$(GO) test -count=1 ./...

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }

# Benchmarks (see README for the figures and what they compare against).
bench: build
	./bench/run

# System packages the tests and the daemon use (Debian/Ubuntu, as root or with sudo).
deps:
	./scripts/deps --test

node_modules: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	@touch node_modules

clean:
	rm -rf bin
