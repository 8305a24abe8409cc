# FleetPrompt — the two commands: `make run` and `make test`.
GO      ?= go
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test test-pooled build vet deps deps-pgbouncer deps-a11y a11y a11y-full bench bench-startup bench-jobs bench-install bench-sse bench-http bench-agents bench-faults bench-webhooks bench-api bench-workflows bench-search bench-notify clean

## run: start the app (its own PostgreSQL under .fleetprompt/, demo data on first run)
run: deps-postgres
	$(GO) run .

## test: install what the tests need, then vet and the race-enabled suite
test: deps
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...

## test-pooled: the handler, live, jobs and store suites through PgBouncer in transaction
## mode (pools via PgBouncer, LISTEN direct), as behind a managed database's pooler
test-pooled: deps-postgres deps-pgbouncer
	TEST_POOLED=1 $(GO) test -race -count=1 -timeout 20m ./handlers ./handlers/live ./jobs/... ./store

build:
	$(GO) build -o fleetprompt .

deps: deps-postgres deps-chromium

# PostgreSQL server binaries: the app and the test harness run their own server.
deps-postgres:
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null 2>&1 || { \
	  echo "installing PostgreSQL server binaries"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

# PgBouncer for test-pooled (store/storetest starts it in front of the test server).
deps-pgbouncer:
	@command -v pgbouncer >/dev/null 2>&1 || test -x /usr/sbin/pgbouncer || { \
	  echo "installing pgbouncer for the pooled tests"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null; }

# Headless Chromium for the browser journeys in e2e/.
deps-chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  echo "installing chromium for the browser tests"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The accessibility checkers: Java for the Nu Html Checker (vnu.jar), npm for
# bench/a11y's pinned axe-core, vnu-jar and Lighthouse (install scripts off:
# vnu-jar's would download a Java of its own).
deps-a11y: deps-chromium bench/a11y/node_modules/.package-lock.json
	@command -v java >/dev/null 2>&1 || { \
	  echo "installing Java for the Nu Html Checker"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null; }

bench/a11y/node_modules/.package-lock.json: bench/a11y/package.json bench/a11y/package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  echo "installing npm for the accessibility checkers"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; }
	npm ci --prefix bench/a11y --ignore-scripts --no-audit --no-fund --loglevel=error

## a11y: every page (signed out, failed forms, every link from the dashboard as the demo owner)
## through axe-core (WCAG 2.2 A/AA + best practices) and the Nu Html Checker; header height
## and overflow at 1366 and 390 px; figures last
a11y: deps-postgres deps-a11y
	$(GO) run ./bench/a11y

## a11y-full: the same plus Lighthouse accessibility per page and screenshots (1366/390 px,
## JS on and off) in a11y-shots/
a11y-full: deps-postgres deps-a11y
	$(GO) run ./bench/a11y -lighthouse -shots a11y-shots

## bench: every benchmark, one after another (each prints its figures last)
bench: bench-startup bench-jobs bench-install bench-sse bench-http bench-agents bench-faults bench-webhooks bench-api bench-workflows bench-search bench-notify

## bench-startup: cold and warm start to the first 200 from /healthz; idle RSS/PSS of serve and of its PostgreSQL
bench-startup: deps-postgres
	$(GO) run ./bench/startup

## bench-jobs: job runner vs River at equal durability (durable and async): throughput, pickup latency, CPU per job
bench-jobs: deps-postgres
	cd bench/jobs && $(GO) run .

## bench-install: full package.install directives end to end with 4 workers
bench-install: deps-postgres
	$(GO) run ./bench/install

## bench-sse: 10,000 subscribers to one thread at 10 replies/s: delivery latency, loss, cuts,
## coalesced writes, CPU per event, memory; BURN=1 keeps one core busy with a CPU burner
bench-sse: deps-postgres
	$(GO) run ./bench/sse -subscribers 10000 -rate 10 -duration 20s $(if $(BURN),-burn)

## bench-http: the thread page (hit, viewers, miss, cold, mixed) vs a bare Gin page of the same bytes; replies per second with the job runner
bench-http: deps-postgres
	$(GO) run ./bench/http -duration 10s -modes hit,viewers,miss,cold,mixed,replies

## bench-agents: the agent engine — provider chunk → SSE frame for 100 concurrent executions,
## the built-in responder over 100,000 forum posts, 1,000 executions through the runner
bench-agents: deps-postgres
	$(GO) run ./bench/agents

## bench-faults: kill -9 loop, database restart and hostile clients against the real binary (≤ ~10 min)
bench-faults: deps-postgres
	$(GO) run ./bench/faults

## bench-webhooks: 100 endpoints on forum.* at 100 replies/s (commit → received latency,
## deliveries/s, loss), then a receiver down for 60 s (every delivery arrives, none beyond its retries)
bench-webhooks: deps-postgres
	$(GO) run ./bench/webhooks -endpoints 100 -rate 100 -duration 20s -down 60s

## bench-api: GET /api/v1/signals?after= paging through 100,000 signals: time per page
bench-api: deps-postgres
	$(GO) run ./bench/api -signals 100000

## bench-workflows: Support auto-reply on real worker processes with a fake provider: signal committed → run
## started and → first step running (p99 of 1,000), bursts of 1,000 runs (runs/s, CPU per run, one post each),
## and the kill -9 loop at full size (≈ 12 min)
bench-workflows: deps-postgres
	$(GO) run ./bench/workflows

## bench-search: GET /search over 100,000 posts, queries of every selectivity: p50/p99 over 1,200 samples, CPU per search, the plan
bench-search: deps-postgres
	$(GO) run ./bench/search -posts 100000 -samples 1200
## bench-notify: a reply → the thread starter's unread badge over SSE (topic me), 1,000 pages of distinct users open
bench-notify: deps-postgres
	$(GO) run ./bench/notify -users 1000 -replies 1200 -rate 20

clean:
	rm -rf fleetprompt .fleetprompt a11y-shots
