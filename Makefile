# The suite's commands. `make run` starts it, `make test` tests it (README).
VENV ?= .venv
PY := $(VENV)/bin/python
SERVICES := $(sort $(patsubst services/%/pyproject.toml,%,$(wildcard services/*/pyproject.toml)))
PYTHON ?= python3
# `make up REPLICAS=2`: two processes of each service (PostgreSQL only; deploy/suite.py)
REPLICAS ?= 1

.PHONY: setup broker run up down status test test-unit test-e2e lint format bench clean faults monitor monitor-down monitor-status upgrade-test cluster-faults

# Prometheus's tools (promtool, prometheus, prometheus-alertmanager): Debian's packages, when root
setup: $(VENV)/.installed
	@bash deploy/ensure-prometheus.sh

$(VENV)/.installed: requirements.lock shared/pyproject.toml $(wildcard services/*/pyproject.toml)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements.lock
	$(VENV)/bin/pip install -q --disable-pip-version-check --no-deps -e shared $(addprefix -e services/,$(SERVICES))
	@bash deploy/ensure-chromium.sh
	touch $@

broker:
	@bash deploy/ensure-rabbitmq.sh --management

run: setup broker
	$(PY) deploy/suite.py run --replicas $(REPLICAS)

up: setup broker
	$(PY) deploy/suite.py up --replicas $(REPLICAS)

down:
	@$(PY) deploy/suite.py down

status:
	@$(PY) deploy/suite.py status

# Prometheus (127.0.0.1:9190) and Alertmanager (127.0.0.1:9193) scraping the suite `make up` runs
monitor: setup
	@$(PY) deploy/monitor.py up

monitor-down:
	@$(PY) deploy/monitor.py down

monitor-status:
	@$(PY) deploy/monitor.py status

test: setup
	@bash deploy/ensure-rabbitmq.sh --management
	$(VENV)/bin/ruff check .
	$(PY) deploy/lint_imports.py
	$(PY) deploy/typecheck.py
	$(PY) -m pytest $(PYTEST_ARGS)

# the fault suite (tests/faults): full form by default (restarts RabbitMQ itself); NX_FAULTS=short
# drops only its own connections (CI). REPLICAS=2: two processes of each service on PostgreSQL
# (NX_TEST_POSTGRES_URL), one of the two killed
faults: setup
	@bash deploy/ensure-rabbitmq.sh --management
	NX_FAULTS=$${NX_FAULTS:-1} NX_FAULTS_REPLICAS=$(REPLICAS) $(PY) -m pytest -q tests/faults $(PYTEST_ARGS)

# the rolling-upgrade test (tests/upgrade): services of the previous release (deploy/releases.txt)
# beside the current ones while projects flow; migrations down and up on PostgreSQL
upgrade-test: setup
	@bash deploy/ensure-rabbitmq.sh --management
	NX_UPGRADE_TEST=1 $(PY) -m pytest -q -s tests/upgrade $(PYTEST_ARGS)

# the suite on a local three-node RabbitMQ cluster (deploy/rabbitmq_cluster.sh: nx1..nx3@localhost,
# AMQP 5681-5683), quorum queues, one node stopped mid-flow and then another; the nodes are removed after
cluster-faults: setup
	bash deploy/rabbitmq_cluster.sh start
	NX_CLUSTER_FAULTS=1 $(PY) -m pytest -q -s tests/cluster $(PYTEST_ARGS); status=$$?; \
	bash deploy/rabbitmq_cluster.sh stop; exit $$status

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) deploy/lint_imports.py
	$(PY) deploy/typecheck.py

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: setup
	@bash deploy/ensure-rabbitmq.sh --management
	cd bench && ../$(PY) run.py $(if $(QUICK),--quick)

clean:
	rm -rf $(VENV) .data .run
