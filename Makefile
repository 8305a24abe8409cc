# FleetPrompt — the two commands: `make run` and `make test`.
GO      ?= go
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test build vet deps bench bench-startup bench-jobs bench-install bench-sse bench-http bench-chat clean

## run: start the app (its own PostgreSQL under .fleetprompt/, demo data on first run)
run: deps-postgres
	$(GO) run .

## test: install what the tests need, then vet and the race-enabled suite
test: deps
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...

build:
	$(GO) build -o fleetprompt .

deps: deps-postgres deps-chromium

# PostgreSQL server binaries: the app and the test harness run their own server.
deps-postgres:
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null 2>&1 || { \
	  echo "installing PostgreSQL server binaries"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

# Headless Chromium for the browser journeys in e2e/.
deps-chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  echo "installing chromium for the browser tests"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

## bench: every benchmark, one after another (each prints its figures last)
bench: bench-startup bench-jobs bench-install bench-sse bench-http bench-chat

## bench-startup: cold and warm start to the first 200 from /healthz, idle RSS
bench-startup: deps-postgres
	$(GO) run ./bench/startup

## bench-jobs: job runner throughput and pickup latency against River
bench-jobs: deps-postgres
	cd bench/jobs && $(GO) run .

## bench-install: full package.install directives end to end with 4 workers
bench-install: deps-postgres
	$(GO) run ./bench/install

## bench-sse: 10,000 subscribers to one thread at 10 replies/s: delivery latency, loss, cuts,
## coalesced writes, CPU per event, memory; BURN=1 keeps one core busy with a CPU burner
bench-sse: deps-postgres
	$(GO) run ./bench/sse -subscribers 10000 -rate 10 -duration 20s $(if $(BURN),-burn)

## bench-http: the thread page vs a bare Gin page of the same size; replies per second
bench-http: deps-postgres
	$(GO) run ./bench/http -duration 10s

## bench-chat: app overhead per streamed chat token, 100 concurrent chats against a fake provider
bench-chat: deps-postgres
	$(GO) run ./bench/chat

clean:
	rm -rf fleetprompt .fleetprompt
