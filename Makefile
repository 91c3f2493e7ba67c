# One command sets up and runs each job on a fresh machine:
#   make serve   - the REST API on the bundled model (http://127.0.0.1:8000)
#   make test    - the checks (make lint), then the test suite
# Both go through setup: the system packages (scripts/install_system_deps.sh, which only checks
# them when they are all there), then the virtual environment.
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: setup system-deps lint test test-fast serve peers clean

setup: system-deps $(VENV)/.installed

system-deps:
	@bash scripts/install_system_deps.sh

# torch/torchvision are pinned to the wheels this machine holds; the rest comes from pyproject.toml.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install -q -e '.[test]'
	touch $@

# ruff's rules, the import layers (pyproject.toml's [tool.importlinter]) and the library's types.
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-logo
	$(VENV)/bin/mypy

test: lint
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow"

serve: setup
	$(VENV)/bin/ocr-lstm serve --host $(HOST) --port $(PORT)

# The peer recognizers for benchmarks/peers.py. tesserocr is built against Debian's libtesseract;
# torch stays at the pinned wheel; rapidocr-onnxruntime pulls opencv-python, whose cv2 (needing
# libGL) would overwrite opencv-python-headless's, so the headless one is put back.
peers: setup
	EXTRA_SYSTEM_PACKAGES="tesseract-ocr tesseract-ocr-eng libtesseract-dev libleptonica-dev pkg-config g++" bash scripts/install_system_deps.sh
	$(PY) -m pip install -q --no-binary tesserocr torch==2.14.1 torchvision==0.29.1 -e '.[peers]'
	if $(PY) -m pip show -q opencv-python >/dev/null 2>&1; then \
	  $(PY) -m pip uninstall -y -q opencv-python && \
	  $(PY) -m pip install -q --force-reinstall --no-deps "opencv-python-headless==$$($(PY) -m pip show opencv-python-headless | sed -n 's/^Version: //p')"; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache
