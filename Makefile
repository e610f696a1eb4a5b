# The two commands of the README: `make run` and `make test`. Both install what
# is missing first (idempotently), so they work on a fresh Debian 12 machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# A build cache outside the clone keeps warm runs fast; a cold run still works.
export CARGO_TARGET_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/cloudops-target
CARGO ?= cargo
TAURI_DRIVER_VERSION := 2.1.0
MIN_NODE := 20.19

# Tauri 2 on bookworm (https://v2.tauri.app prerequisites) plus what we use.
APT_BUILD := build-essential pkg-config file curl libssl-dev libwebkit2gtk-4.1-dev \
             libayatana-appindicator3-dev librsvg2-dev libxdo-dev
# The e2e suite: a virtual display and WebKit's WebDriver; a private D-Bus
# session with GNOME Keyring for the account secrets; python3-venv for moto;
# the real Prometheus server, the second witness of our quantiles (§9 A2).
APT_TEST := xvfb xauth webkit2gtk-driver dbus-daemon gnome-keyring python3-venv prometheus
# moto (PyPI `moto[server]`) is the EKS path's second witness besides the
# sandbox (BRIEF §6, §10). Pinned, in a venv outside the clone that the tests
# find on their own (cloud/tests/it/moto.rs; CLOUDOPS_MOTO_SERVER overrides).
MOTO_VERSION := 5.2.5
CLOUDOPS_VENV := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/cloudops-venv

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help run test deps test-deps moto toolchain ui ui-deps test-rust test-ui test-e2e check-layers check-bindings fmt clean

help:
	@echo "make run    install what is missing, build, and launch CloudOps Console"
	@echo "            (no display: print the headless fleet report instead)"
	@echo "make test   install what is missing and run every test (Rust, UI, e2e under Xvfb)"

# --- installs -------------------------------------------------------------

# Installs only the Debian packages that are missing; `apt-get update` runs
# once, and only when something has to be installed.
define apt_ensure
	missing=(); \
	for p in $(1); do \
	  dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$$p"); \
	done; \
	if [ $${#missing[@]} -gt 0 ]; then \
	  echo ">> apt: installing $${missing[*]}"; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends "$${missing[@]}"; \
	fi
endef

toolchain:
	@command -v $(CARGO) >/dev/null || { echo "error: cargo not found. Install Rust >= 1.90 with rustup (https://rustup.rs), then re-run."; exit 1; }
	@command -v node >/dev/null && command -v npm >/dev/null || { echo "error: node/npm not found. Install Node.js >= $(MIN_NODE) (e.g. from NodeSource or nvm), then re-run."; exit 1; }
	@node -e 'const [a,b]=process.versions.node.split(".").map(Number);const [x,y]="$(MIN_NODE)".split(".").map(Number);process.exit(a>x||(a===x&&b>=y)?0:1)' \
	  || { echo "error: Node.js $$(node --version) is too old; the UI build (Vite) needs >= $(MIN_NODE)."; exit 1; }

deps: toolchain
	@$(call apt_ensure,$(APT_BUILD))

test-deps: deps moto
	@$(call apt_ensure,$(APT_TEST))
	@if ! tauri-driver --help 2>/dev/null | grep -q "tauri-driver"; then \
	  echo ">> installing tauri-driver $(TAURI_DRIVER_VERSION)"; \
	  $(CARGO) install tauri-driver --locked --version $(TAURI_DRIVER_VERSION); \
	fi

# Creates the venv and installs the pinned moto[server] only when that exact
# version is not already there: a warm run is one python start-up.
moto:
	@$(call apt_ensure,python3-venv)
	@if ! "$(CLOUDOPS_VENV)/bin/python" -c 'import importlib.metadata as m, sys; sys.exit(m.version("moto") != "$(MOTO_VERSION)")' 2>/dev/null \
	    || [ ! -x "$(CLOUDOPS_VENV)/bin/moto_server" ]; then \
	  echo ">> installing moto[server]==$(MOTO_VERSION) into $(CLOUDOPS_VENV)"; \
	  python3 -m venv "$(CLOUDOPS_VENV)"; \
	  "$(CLOUDOPS_VENV)/bin/pip" install -q --disable-pip-version-check "moto[server]==$(MOTO_VERSION)"; \
	fi

# --- the web UI (tauri-build needs ui/dist before any build of the app) ---

ui/node_modules/.package-lock.json: ui/package-lock.json ui/package.json
	cd ui && npm ci --no-audit --no-fund
	@touch $@

ui-deps: ui/node_modules/.package-lock.json

ui: ui-deps
	cd ui && npm run build

# --- the two commands -------------------------------------------------------

run: deps ui
	@if [ -n "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ]; then \
	  $(CARGO) run --bin cloudops-desktop; \
	else \
	  echo ">> No display (DISPLAY/WAYLAND_DISPLAY unset): printing the headless fleet report instead of opening the window."; \
	  out="$${XDG_CACHE_HOME:-$$HOME/.cache}/cloudops-report"; \
	  rc=0; $(CARGO) run -q -p cloudops-cli -- report --out "$$out" || rc=$$?; \
	  if [ $$rc -eq 2 ]; then \
	    echo ">> No cloud account configured: reporting on the built-in sandbox (a simulated fleet on loopback)."; \
	    rc=0; $(CARGO) run -q -p cloudops-cli -- report --sandbox --out "$$out" || rc=$$?; \
	  fi; \
	  if [ $$rc -eq 3 ]; then echo ">> Some clusters or accounts failed; the report shows the rest."; rc=0; fi; \
	  exit $$rc; \
	fi

test: test-deps ui fmt check-layers test-rust test-ui test-e2e check-bindings
	@echo ">> all tests passed"

fmt:
	$(CARGO) fmt --all -- --check

# cloudops-core and cloudops-cloud must build without Tauri/WebKit (BRIEF §3).
check-layers:
	@for crate in cloudops-core cloudops-cloud; do \
	  if $(CARGO) tree -q -p $$crate -e normal,build,dev --prefix none | grep -qiE '^(tauri|wry|webkit2gtk|tao)[ -]'; then \
	    echo "error: $$crate depends on Tauri/WebKit; keep it headless"; exit 1; \
	  fi; \
	done; echo ">> layers ok: core and cloud do not depend on Tauri"

test-rust: ui
	$(CARGO) test --workspace

test-ui: ui-deps
	cd ui && npm test

# One automated window at a time; xvfb-run provides the display and
# with-test-keyring.sh a private Secret Service for the account secrets.
test-e2e: test-deps ui
	tests/e2e/with-test-keyring.sh xvfb-run -a -s "-screen 0 1440x900x24" \
	  $(CARGO) test --test e2e -- --test-threads=1

# The IPC types are generated by `cargo test` (ts-rs); committed copies must match.
check-bindings:
	@if git rev-parse --git-dir >/dev/null 2>&1 && [ -n "$$(git status --porcelain -- ui/src/lib/bindings)" ]; then \
	  git status --porcelain -- ui/src/lib/bindings; \
	  echo "error: ui/src/lib/bindings is out of date with the Rust DTOs; commit the regenerated files"; exit 1; \
	fi

clean:
	rm -rf ui/dist ui/node_modules target
