# hatchetflow: `make test` is the one test command (unit + integration against a local Hatchet engine).
# See docs/stack.md.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test
STACK := scripts/stack
# Go: the release that go.mod's `toolchain` line names, for every recipe and the scripts they run.
# The machines set GOTOOLCHAIN=local, which ignores that line; the exported variable overrides it
# (scripts/toolchain.bash does the same for scripts run by hand; docs/dependencies.md says why).
export GOTOOLCHAIN := $(shell awk '$$1 == "toolchain" {print $$2; exit}' $(dir $(abspath $(lastword $(MAKEFILE_LIST))))go.mod)
ifeq ($(GOTOOLCHAIN),)
$(error go.mod has no toolchain line)
endif

.PHONY: up down status env test test-unit lint vulncheck demo engine reliability bench diagrams screenshot

up: ## build (if needed) and start the local Hatchet engine + Postgres + Redis; writes .state/env
	$(STACK) up

down: ## stop what `make up` started (shared services are left alone)
	$(STACK) down

status:
	$(STACK) status

env:
	@$(STACK) env

engine: ## only build the engine binary, .state/bin/hfengine (cached per machine)
	$(STACK) build

# Every test against an engine on the RabbitMQ queue, then the fault suite and the engine-fault
# tests against one on the PostgreSQL queue (scripts/test-all says how to choose). Each stack stops
# only what this invocation started (a stack that was already up stays up).
test:
	scripts/test-all

screenshot: ## rerun the inspector's browser test on the engine and write docs/inspector-1280.png and docs/inspector-1920.png
	@started="$$(mktemp)"; \
	trap 'rc=$$?; $(STACK) down --only "$$started" || true; rm -f "$$started"; exit $$rc' EXIT; \
	scripts/chromium; \
	$(STACK) up --record "$$started"; \
	set -a; . .state/env; set +a; \
	HATCHETFLOW_INTEGRATION=1 HATCHETFLOW_SCREENSHOT=$(CURDIR)/docs/inspector.png go test -count=1 -run TestPageInARealBrowser ./internal/inspectui/

test-unit: ## unit tests only, no engine
	go test ./...

lint: ## staticcheck on the whole module (version pinned in tools/lint/go.mod)
	go run -modfile=tools/lint/go.mod honnef.co/go/tools/cmd/staticcheck ./...

vulncheck: ## govulncheck offline against the pinned vulnerability data (docs/dependencies.md)
	scripts/vulncheck

demo: ## start the stack and run the example worker end to end (`make down` stops the stack)
	HATCHETFLOW_REDIS_OPTIONAL=1 $(STACK) up
	set -a; . .state/env; set +a; go run ./cmd/example-worker

reliability: ## fault suite x3 + 30 s per fuzz target on the local engine; writes docs/reliability.md
	@started="$$(mktemp)"; \
	trap 'rc=$$?; $(STACK) down --only "$$started" || true; rm -f "$$started"; exit $$rc' EXIT; \
	$(STACK) up --record "$$started"; \
	set -a; . .state/env; set +a; \
	go run ./internal/cmd/hfreliability -count 3 -fuzztime 30s -out docs/reliability.md

# hatchetflow vs native Hatchet and the hand-written references on an engine on the RabbitMQ queue
# (production's), then on the PostgreSQL queue, each on an own PostgreSQL cluster in a state dir of
# its own (.state/bench-rabbitmq, .state/bench-postgres); then the Go micro-benchmarks. Prints each
# run's summary line prefixed `rabbitmq: ` / `postgres: `. HATCHETFLOW_BENCH_MQ=rabbitmq (or
# postgres) runs one queue only. scripts/bench-all and docs/benchmarks.md say more.
bench:
	scripts/bench-all

diagrams: ## regenerate docs/*.svg from their .dot sources (needs graphviz: apt-get install graphviz)
	for f in docs/*.dot; do dot -Tsvg "$$f" -o "$${f%.dot}.svg"; done
