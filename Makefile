# Insignia: `make run` serves the demo on SQLite; `make test` runs every check on PostgreSQL.
SHELL := /bin/bash
PORT ?= 8000
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# make run installs what running needs; make test (and lint, types...) adds the dev tools
DEV_STAMP := $(VENV)/.installed-dev
SEMGREP := var/tools/semgrep/bin/semgrep

.PHONY: run test install system-deps interop-deps lint imports types migrations-check messages-check pytest messages clean semgrep supply-chain fuzz

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Insignia needs Python 3.11; found " + sys.version.split()[0] + ". Set PYTHON=/path/to/python3.11.")'
	$(PYTHON) -m venv $(VENV)
	# setuptools pinned past the venv's 65.5.0, which CVE-2022-40897 affects (make supply-chain)
	$(BIN)/pip install --quiet --upgrade pip setuptools==84.2.1
	$(BIN)/pip install --quiet -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(DEV_STAMP)

install: $(DEV_STAMP)

## run: install, migrate an SQLite database under var/, load demo data and serve on 127.0.0.1:$(PORT)
run: $(STAMP)
	@mkdir -p var
	@scripts/ensure-system-deps run
	INSIGNIA_ENV=development $(BIN)/python -m insignia.devenv $(PORT)
	INSIGNIA_ENV=development $(BIN)/python manage.py migrate --noinput
	INSIGNIA_ENV=development $(BIN)/python manage.py seed_demo
	@echo
	@echo "Insignia is starting at http://127.0.0.1:$(PORT)/"
	@echo "  home     http://127.0.0.1:$(PORT)/"
	@echo "  console  http://127.0.0.1:$(PORT)/manage/"
	@echo "  verify   http://127.0.0.1:$(PORT)/verify"
	@echo "  admin    http://127.0.0.1:$(PORT)/admin/ (operators: python manage.py createsuperuser)"
	@echo
	INSIGNIA_ENV=development $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

## test: lint, import contracts, types, migrations check and the whole suite on PostgreSQL (with a real browser)
test: $(DEV_STAMP) system-deps lint imports types migrations-check messages-check interop-deps pytest

system-deps:
	scripts/ensure-system-deps

## interop-deps: the other sides the tests run, from their committed lock files: the independent Node verifier (Digital Bazaar stack), the test OpenID provider (panva/oidc-provider), the OID4VCI test wallet (@openid4vc/openid4vci), the JWT library (panva/jose) and DCC's issuer-registry client
NODE_DIRS := tests/interop tests/idp/oidc tests/wallets/oid4vci tests/vcjwt tests/registry_client
interop-deps: $(addsuffix /node_modules/.package-lock.json,$(NODE_DIRS))

%/node_modules/.package-lock.json: %/package-lock.json
	cd $* && npm ci --no-audit --no-fund --loglevel=error

lint: $(DEV_STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

## imports: the import contracts between apps (pyproject.toml [tool.importlinter])
imports: $(DEV_STAMP)
	INSIGNIA_ENV=test $(BIN)/lint-imports

types: $(DEV_STAMP)
	INSIGNIA_ENV=test $(BIN)/mypy .

migrations-check: $(DEV_STAMP)
	INSIGNIA_ENV=test $(BIN)/python manage.py makemigrations --check --dry-run

messages-check: $(DEV_STAMP)
	INSIGNIA_ENV=test $(BIN)/python scripts/check_messages.py

pytest: $(DEV_STAMP)
	INSIGNIA_ENV=test $(BIN)/python scripts/with_postgres.py $(BIN)/pytest $(PYTEST_ARGS)

# semgrep in an environment of its own: its pins (click, jsonschema, opentelemetry) would move ours
$(SEMGREP):
	$(PYTHON) -m venv var/tools/semgrep
	var/tools/semgrep/bin/pip install --quiet semgrep==1.187.0

semgrep: $(SEMGREP)

## supply-chain: bandit, semgrep (our rules, offline), version floors, the offline advisory check, the SBOM (var/sbom.json)
supply-chain: $(DEV_STAMP) $(SEMGREP)
	$(BIN)/python scripts/supply_chain.py

## fuzz: the S-30 fuzz pass (verify API and page, bulk CSV/XLSX parser, baking extractors, status lists) within INSIGNIA_FUZZ_SECONDS (120); INSIGNIA_FUZZ_SEED replays a failure
fuzz: $(DEV_STAMP)
	INSIGNIA_ENV=test INSIGNIA_FUZZ=1 $(BIN)/python scripts/with_postgres.py $(BIN)/pytest -s -p no:cacheprovider tests/fuzz $(PYTEST_ARGS)

## messages: extract new strings into the catalogues and compile them (needs GNU gettext)
messages: $(DEV_STAMP)
	INSIGNIA_ENV=test $(BIN)/python manage.py makemessages -l zh_Hans -l en --no-location --no-obsolete -i var -i node_modules
	INSIGNIA_ENV=test $(BIN)/python manage.py compilemessages -i .venv -i var -i node_modules

clean:
	rm -rf $(VENV) var/insignia.sqlite3 .mypy_cache .pytest_cache .ruff_cache
