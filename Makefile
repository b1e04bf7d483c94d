# One entry point for newcomers, CI and operators. `make up` runs the stack; `make test` tests it.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_PYTHON_DOWNLOADS := never
BOOTSTRAP := .local/bootstrap
UV := $(BOOTSTRAP)/bin/uv
PY := .venv/bin/python
ENV := eval "$$(scripts/infra/env.sh)"
# Each runs as `python -m <svc>_service`; finance pays refunds through the payment simulator and shipping buys labels
# from the carrier simulator, both started next to them.
SERVICES := order allocation warehouse returns finance control catalog supply shipping

include mk/infra.mk

help:  ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(UV):
	python3 -m venv $(BOOTSTRAP)
	$(BOOTSTRAP)/bin/pip install -q uv==0.13.9

install: $(UV)  ## install everything into .venv (Python 3.11+, uv workspace, locked)
	$(UV) sync --frozen --python python3

up: install infra-up migrate  ## set up and run the stack locally (Kafka, PostgreSQL, Keycloak, services) in the background
	@mkdir -p .local/log
	@$(ENV); start() { \
	  name=$$1; shift; \
	  if [ -f .local/$$name.pid ] && kill -0 $$(cat .local/$$name.pid) 2>/dev/null; then echo "$$name already running"; return; fi; \
	  nohup "$$@" >> .local/log/$$name.log 2>&1 & echo $$! > .local/$$name.pid; \
	}; \
	start payment-simulator $(PY) -m payment_simulator; \
	start carrier-simulator $(PY) -m carrier_simulator; \
	for svc in $(SERVICES); do \
	  start $$svc env KAFKA_SASL_USERNAME=$$svc KAFKA_SASL_PASSWORD=$$svc-dev-secret $(PY) -m $${svc}_service; \
	done
	@$(PY) tools/wait_ready.py http://127.0.0.1:8090/healthz http://127.0.0.1:8091/healthz \
	  http://127.0.0.1:8001/readyz http://127.0.0.1:8002/readyz http://127.0.0.1:8003/readyz http://127.0.0.1:8004/readyz \
	  http://127.0.0.1:8005/readyz http://127.0.0.1:8006/readyz http://127.0.0.1:8007/readyz http://127.0.0.1:8008/readyz \
	  http://127.0.0.1:8009/readyz
	@echo "order service:      http://127.0.0.1:8001/docs  (logs: .local/log/order.log)"
	@echo "allocation service: http://127.0.0.1:8002/docs  (logs: .local/log/allocation.log)"
	@echo "warehouse service:  http://127.0.0.1:8003/docs  (logs: .local/log/warehouse.log)"
	@echo "returns service:    http://127.0.0.1:8004/docs  (logs: .local/log/returns.log)"
	@echo "finance service:    http://127.0.0.1:8005/docs  (logs: .local/log/finance.log)"
	@echo "ops console:        http://127.0.0.1:8006/console/  (logs: .local/log/control.log)"
	@echo "catalog service:    http://127.0.0.1:8007/docs  (logs: .local/log/catalog.log)"
	@echo "supply service:     http://127.0.0.1:8008/docs  (logs: .local/log/supply.log)"
	@echo "shipping service:   http://127.0.0.1:8009/docs  (logs: .local/log/shipping.log)"
	@echo "payment simulator:  http://127.0.0.1:8090/docs  (logs: .local/log/payment-simulator.log; state in memory)"
	@echo "carrier simulator:  http://127.0.0.1:8091/docs  (logs: .local/log/carrier-simulator.log; state in memory)"

migrate: install infra-up  ## run every service's schema migrations (as the migration role), as `make up` does
	@$(ENV); .venv/bin/ecomops-migrate upgrade --service all

down:  ## stop the services and the local infrastructure
	@for pid in .local/*.pid; do [ -f "$$pid" ] && kill $$(cat $$pid) 2>/dev/null; rm -f $$pid; done; true
	@$(MAKE) --no-print-directory infra-down

test: install helm-in-background infra-up chromium  ## run every check: architecture, schemas, unit, integration and end-to-end tests
	$(MAKE) --no-print-directory lint
	@$(ENV); ECOMOPS_INFRA_TESTS=1 $(PY) -m pytest $(PYTEST_ARGS)

# A fresh machine builds helm from source (minutes): at the lowest priority while the other checks run;
# tests/infra/test_helm.py waits for it (scripts/tools/helm.sh holds a lock while building).
helm-in-background:
	@mkdir -p .local/log; nice -n 19 scripts/tools/helm.sh > .local/log/helm-build.log 2>&1 &

# The browser tests' Chromium (tests/e2e/browser.py): Debian's package, installed with apt on a fresh machine (~15 s).
chromium:
	@scripts/tools/chromium.sh > /dev/null

unit: install  ## unit tests only (no Kafka, no PostgreSQL)
	$(PY) -m pytest -m "not integration and not e2e" $(PYTEST_ARGS)

lint: install  ## import contracts, ruff, schemas up to date, dependencies declared, a no-dev install starts
	.venv/bin/lint-imports
	.venv/bin/ruff check libs services tests tools
	.venv/bin/ecomops-schemas check
	scripts/check_deps.sh
	scripts/check_runtime.sh
	$(PY) tools/api_docs.py check
	$(PY) tools/check_docs.py

schemas: install  ## regenerate schemas/ from the contracts (refuses incompatible changes)
	.venv/bin/ecomops-schemas generate

helm-check: install  ## the Helm chart: lint, render each deploy/helm/ci-values file, Kubernetes schemas, hardening
	$(PY) -m pytest -q -p no:cacheprovider tests/infra/test_helm.py

docs: install  ## regenerate docs/asyncapi.yaml, docs/openapi/, docs/access-matrix.md and the Kafka grants from the code
	$(PY) tools/api_docs.py generate

bench-intake: install infra-up  ## orders/s via topic and HTTP, p50/p99 acceptance -> OrderPlaced
	@$(ENV); $(PY) tools/bench_intake.py $(BENCH_ARGS)

bench-allocation: install infra-up  ## orders/s OrderPlaced -> OrderAllocated, p50/p99 at 200/s
	@$(ENV); $(PY) tools/bench_allocation.py $(BENCH_ARGS)

bench-scans: install infra-up  ## scans/s applied by the warehouse service (sustained), p50/p99 at 500/s
	@$(ENV); $(PY) tools/bench_scans.py $(BENCH_ARGS)

bench-pipeline: install infra-up  ## every service on one box: orders/s channel -> released, p50/p99 per stage, CPU ms/order, ceilings
	@$(ENV); $(PY) tools/bench_pipeline.py $(BENCH_ARGS)

bench-console: install infra-up  ## console and API page medians at 100,000 orders, projection events/s (in-process, Kafka)
	@$(ENV); $(PY) tools/bench_console.py $(BENCH_ARGS)

forecast-accuracy: install  ## the supply forecast's error (WAPE, MAE, bias) on generated history with a known truth
	@$(PY) tools/forecast_accuracy.py $(BENCH_ARGS)

reconcile: install  ## allocation reservations and warehouse ledger against their counters; exit 1 on drift
	@$(ENV); .venv/bin/allocation-reconcile && .venv/bin/warehouse-reconcile

dlq:  ## list dead letters of a topic: make dlq TOPIC=channel.orders.v1
	@$(ENV); .venv/bin/ecomops-dlq list $(TOPIC)

outbox:  ## list a service's parked outbox rows: make outbox SERVICE=order
	@$(ENV); .venv/bin/ecomops-outbox list --service $(SERVICE)

.PHONY: help install up migrate down test helm-in-background chromium unit lint schemas helm-check docs bench-intake bench-allocation bench-scans bench-console bench-pipeline forecast-accuracy reconcile dlq outbox
