# StutterScope: `make run` launches the app on the bundled model, `make test` runs the suite.
# Both set everything up (Debian packages when run as root, the virtualenv, the Python packages)
# and are safe to re-run: each step is skipped when already done.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.stutterscope-installed
PYTHON ?= python3
# torch from this machine's disk (a CUDA build that also runs on the CPU); see README "Set-up".
# pyproject.toml's torch range and installer/requirements-build.txt's CPU pin are kept in step with this.
TORCH := torch==2.14.1 torchaudio==2.11.1

DEBIAN_PACKAGES := espeak-ng sox libsox-fmt-all ffmpeg xvfb xauth pulseaudio pulseaudio-utils poppler-utils \
	libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libglib2.0-0 libnss3 libasound2 \
	libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-image0 libxcb-render-util0 libxcb-shape0 \
	libxcb-xinerama0 libxcb-randr0 libxcb-xkb1 python3-venv

.PHONY: run test deps venv lint bench installer clean

deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -z "$$missing" ]; then echo "Debian packages: all present"; \
	elif [ "$$(id -u)" = 0 ]; then echo "Installing Debian packages:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "Missing Debian packages (run as root, or: sudo apt-get install $$missing)"; exit 1; fi

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH)
	$(PY) -m pip install -q -e ".[weights,gui,train,dev,cluster]"
	@touch $@

venv: deps $(STAMP)

test: venv
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

run: venv
	$(PY) -m app.qt.launch

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: venv
	$(PY) benchmarks/inference.py

installer: venv
	bash installer/build.sh

clean:
	rm -rf build dist .pytest_cache
