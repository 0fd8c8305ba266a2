# The verbs of this repository. `make help` lists them.
SHELL := /bin/bash
PY := .venv/bin/python
UV := .venv/bin/uv
LIVEKIT_VERSION := v1.13.5
LIVEKIT_SERVER := .tools/bin/livekit-server
CROWD := .tools/bin/crowd
COMPOSE_CLIENT := .tools/compose/docker-compose
STAMP := .venv/.installed

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  %-16s %s\n", $$1, $$2}'

$(STAMP): constraints.txt requirements.in */pyproject.toml
	@test -x $(PY) || python3 -m venv .venv
	@test -x $(UV) || $(PY) -m pip install -q uv==0.13.9
	$(UV) pip install -q --python $(PY) -c constraints.txt -r requirements.in
	@touch $(STAMP)

install: $(STAMP) ## create .venv and install every package with pinned versions

lock: ## re-pin constraints.txt from requirements.in (no download URLs recorded)
	@test -x $(UV) || $(MAKE) install
	$(UV) pip compile -q --no-emit-index-url --no-header requirements.in -p 3.11 -o .venv/compiled.txt
	grep -v '^-e\|^ *#\|^$$' .venv/compiled.txt | sed 's/ *#.*//' > constraints.txt

$(LIVEKIT_SERVER):
	@mkdir -p .tools/bin
	GOBIN=$(CURDIR)/.tools/bin go install github.com/livekit/livekit-server/cmd/server@$(LIVEKIT_VERSION)
	mv .tools/bin/server $(LIVEKIT_SERVER)

livekit-server: ## build livekit-server into .tools/bin (skipped when a livekit-server is on PATH or already built)
	@command -v livekit-server >/dev/null || $(MAKE) $(LIVEKIT_SERVER)

$(CROWD): bench/crowd/go.mod bench/crowd/go.sum $(filter-out %_test.go,$(wildcard bench/crowd/*.go))
	@mkdir -p .tools/bin
	cd bench/crowd && GOBIN=$(CURDIR)/.tools/bin go install .
	@touch $(CROWD) # go install leaves an up-to-date binary untouched

crowd: $(CROWD) ## build the Go load generator bench/crowd into .tools/bin (rebuilt when its sources change)

system-deps: ## Debian packages the end-to-end suite and benchmarks use (espeak-ng, sox, wrk, opusenc, redis-server)
	@missing=""; for pair in espeak-ng:espeak-ng sox:sox wrk:wrk opusenc:opus-tools redis-server:redis-server; do \
	  command -v $${pair%%:*} >/dev/null || missing="$$missing $${pair#*:}"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing >/dev/null; \
	  else echo "missing:$$missing (Debian: sudo apt-get install$$missing)"; exit 1; fi; fi

TSC := .tools/node/node_modules/.bin/tsc
TYPESCRIPT_VERSION := 7.0.2

$(TSC):
	npm install --no-package-lock --no-audit --no-fund --silent --prefix .tools/node typescript@$(TYPESCRIPT_VERSION)

# npm packages at the exact versions of each package.json, without a lockfile.
NPM_INSTALL := npm install --no-package-lock --no-audit --no-fund --silent
WEB_STAMP := web/node_modules/.installed
BROWSER_STAMP := tests-browser/node_modules/.installed
CHROMIUM := /usr/bin/chromium

$(WEB_STAMP): web/package.json
	cd web && $(NPM_INSTALL)
	@touch $@

$(BROWSER_STAMP): tests-browser/package.json
	cd tests-browser && $(NPM_INSTALL)
	@touch $@

web/dist/index.html: $(WEB_STAMP) web/index.html web/vite.config.ts $(wildcard web/src/*) contracts/export/training-contracts.ts
	cd web && node_modules/.bin/vite build --logLevel warn

web: web/dist/index.html ## build the trainee page (web/) into web/dist

chromium: ## Debian's chromium for the browser suite (never a downloaded browser)
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "missing: chromium (Debian: sudo apt-get install chromium)"; exit 1; fi; }

lint: install $(TSC) $(WEB_STAMP) $(BROWSER_STAMP) ## ruff, mypy --strict over every package, tsc --strict over the TypeScript export, web/ and tests-browser/, gofmt and go vet over bench/crowd
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	@# One run per package: each has a tests/conftest.py, and mypy refuses two modules of one name.
	@set -e; for pkg in contracts token-service agent-service openai-stub; do \
	  echo "mypy --strict $$pkg"; .venv/bin/mypy $$pkg/src $$pkg/tests; done
	.venv/bin/mypy devstack/src tests bench containers
	.venv/bin/mypy tests-e2e
	.venv/bin/mypy tests-faults
	.venv/bin/mypy tests-browser
	.venv/bin/mypy tests-cluster
	.venv/bin/mypy tests-contract
	@test -z "$$(gofmt -l bench/crowd)" || { echo "gofmt: bench/crowd needs formatting:"; gofmt -l bench/crowd; exit 1; }
	cd bench/crowd && go vet ./...
	$(TSC) --noEmit --strict --target es2022 --module nodenext --moduleResolution nodenext \
	  contracts/tests/frontend_usage.ts
	$(TSC) -p web
	$(TSC) -p tests-browser --noEmit

unit: install system-deps livekit-server ## unit and service tests (real Postgres, real token service, real livekit-server for the worker, stub model), go test of bench/crowd
	.venv/bin/pytest tests contracts openai-stub token-service agent-service bench
	cd bench/crowd && go test ./...

# The suites whose calls carry media run in a network namespace of their own (devstack.netns:
# root, which CI is; TESTS_NETNS=host runs them on the host's network instead).
e2e: install system-deps livekit-server ## the whole call for real: Postgres, livekit-server, stub, both services, trainee clients
	.venv/bin/pytest tests-e2e

faults: install system-deps livekit-server ## one test per fault (Postgres restarts, token service down, rolling deploy, dead workers) on the real stack
	.venv/bin/pytest tests-faults

browser: install system-deps livekit-server chromium web $(TSC) $(BROWSER_STAMP) ## the trainee page in Chromium (playwright-core) against the real stack; screenshots under .data/browser/
	@rm -rf tests-browser/.build
	$(TSC) -p tests-browser
	$(PY) -m devstack.netns node --test --test-reporter=spec tests-browser/.build/tests-browser/

contract-test: install ## schemathesis against the served token service (Postgres, demo data): it answers what contracts/export/openapi.json says
	.venv/bin/pytest tests-contract

cluster: install system-deps livekit-server ## the cluster shape for real: Redis, two livekit-server nodes, two workers, two token services, metrics
	.venv/bin/pytest tests-cluster

test: compose-client-early lint unit contract-test e2e faults cluster browser compose-test ## everything CI runs

# The Compose client takes minutes to build on a new machine, CPU the installs and the call suites
# leave idle: `make test` starts it at once, and compose-test waits for it (compose-client.sh locks).
compose-client-early:
	@mkdir -p .data && nohup nice -n 19 containers/compose-client.sh $(COMPOSE_CLIENT) >.data/compose-client-early.log 2>&1 &

up: install system-deps livekit-server web ## run the whole stack and the trainee page (http://localhost:3003) locally as processes (Ctrl-C stops it)
	$(PY) -m devstack up

up-cluster: install system-deps livekit-server ## the same in the cluster shape: Redis, two livekit-server nodes, two workers, two token services
	$(PY) -m devstack up --cluster

compose-test: install system-deps livekit-server ## compose.yaml and the Dockerfiles for real on podman (as root; installs it): build, up, one whole call, image checks, down
	containers/compose-test.sh "$$(command -v livekit-server || echo $(LIVEKIT_SERVER))" $(COMPOSE_CLIENT)

deploy-agent: ## stage agent-service with contracts/ beside it and `lk agent deploy` it to LiveKit Cloud
	containers/deploy-agent.sh

compose-up: ## run the stack with Docker compose (where a Docker engine runs)
	docker compose up --build

down: ## stop what `make up` or `make compose-up` started
	-$(PY) -m devstack down
	@if docker compose version >/dev/null 2>&1; then docker compose down; fi

bench: install system-deps livekit-server crowd ## benchmarks: prints a table, writes JSON under .bench/
	$(PY) -m bench

bench-compare: install system-deps livekit-server crowd ## the call sections for REF=<git ref> and this tree, interleaved; fails when this tree is worse (docs/benchmarks.md)
	@test -n "$(REF)" || { echo "usage: make bench-compare REF=<git ref>"; exit 2; }
	$(PY) -m bench compare $(REF)

export-contracts: install ## regenerate contracts/export (JSON Schema, TypeScript, the token service's OpenAPI document)
	$(PY) -m training_contracts export
	$(PY) -m token_service.cli openapi

.PHONY: help install lock system-deps livekit-server crowd web chromium browser lint unit contract-test e2e faults cluster test up up-cluster compose-up down bench export-contracts
.PHONY: compose-test compose-client-early deploy-agent bench-compare
