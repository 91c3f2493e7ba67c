# The REST service (target "api", the default: the last stage) and a GPU training image (target "train").
# Build: docker build -t ocr-lstm .   Run: docker compose up   (see docs/service.md, "Docker")
#
# Build arguments:
#   BASE_IMAGE         any Debian-like image with python3.11 and its venv module (default python:3.11-slim;
#                      scripts/docker_check.sh --local-base builds one from Debian packages instead)
#   TORCH_INDEX_URL    the extra index torch and torchvision come from: PyTorch's CPU wheels for the api
#                      target (no multi-GB CUDA libraries); TRAIN_TORCH_INDEX_URL, for "train", defaults to
#                      PyPI, whose Linux torch is the CUDA build
#   PIP_INDEX_URL, PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS, PIP_NO_INDEX, PIP_TRUSTED_HOST
#                      pip's own settings, for the build only (a mirror, or a local wheelhouse); unset by default
ARG BASE_IMAGE=python:3.11-slim
# torch/torchvision exactly as the Makefile pins them (the rest comes from pyproject.toml): declared once here,
# written once into the base stage's /opt/torch-pins.txt, which both targets install from and constrain with.
ARG TORCH_VERSION=2.14.1
ARG TORCHVISION_VERSION=0.29.1

# What both targets share: a virtual environment in /opt/venv (works on python:3.11-slim and on Debian's
# python3, whose system pip refuses to install outside one) and the non-root user the servers run as.
FROM ${BASE_IMAGE} AS base
# Marks every image of these builds (scripts/docker_check.sh prunes the untagged ones).
LABEL org.opencontainers.image.title="ocr-lstm"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OMP_WAIT_POLICY=PASSIVE \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ARG TORCH_VERSION
ARG TORCHVISION_VERSION
RUN python3 -m venv /opt/venv && useradd --create-home --uid 1000 ocr \
    && printf 'torch==%s\ntorchvision==%s\n' "$TORCH_VERSION" "$TORCHVISION_VERSION" > /opt/torch-pins.txt
WORKDIR /app


# The project's sources, copied once for both targets (each installs them with its own extras).
FROM scratch AS sources
COPY pyproject.toml README.md /app/
COPY ocr_lstm /app/ocr_lstm
COPY service /app/service
COPY training /app/training
COPY ray_batch /app/ray_batch


# Training adds the fonts and backgrounds the synthetic generator renders with (the list in
# scripts/install_system_deps.sh, less the browser used by the tests) and a CUDA build of torch.
FROM base AS train
# (An ARG lasts one stage: pip's settings are declared in each target, for its installs only.)
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ARG PIP_FIND_LINKS
ARG PIP_NO_INDEX
ARG PIP_TRUSTED_HOST
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core fonts-liberation fonts-freefont-ttf \
       fonts-urw-base35 fonts-roboto fonts-open-sans fonts-noto-core gnome-backgrounds mate-backgrounds \
    && rm -rf /var/lib/apt/lists/*
ARG TRAIN_TORCH_INDEX_URL=
RUN pip install ${TRAIN_TORCH_INDEX_URL:+--extra-index-url=$TRAIN_TORCH_INDEX_URL} -r /opt/torch-pins.txt
COPY --from=sources /app /app
# The pins keep the torch installed above; the sources stay readable in /app, where the recipe's
# ../shared/data paths start.
RUN pip install -c /opt/torch-pins.txt '.[service,train]' && rm -rf build ./*.egg-info && chmod -R a+rX /app
USER ocr
CMD ["ocr-lstm", "train", "--config", "bundled", "--output", "/runs/bundled", "--set", "synth_cache=/runs/synth_pool"]


# The REST API, on the CPU. Last, so that a plain `docker build .` builds it.
FROM base AS api
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ARG PIP_FIND_LINKS
ARG PIP_NO_INDEX
ARG PIP_TRUSTED_HOST
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# torch first, in a layer of its own, so that editing the sources does not reinstall it.
RUN pip install ${TORCH_INDEX_URL:+--extra-index-url=$TORCH_INDEX_URL} -r /opt/torch-pins.txt
COPY --from=sources /app /app
RUN pip install -c /opt/torch-pins.txt '.[service]' && rm -rf build ./*.egg-info && chmod -R a+rX /app

USER ocr
# The bundled model's ONNX export and the word prior's vocabulary, made once here (with torch), so
# the server starts on ONNX Runtime alone; a model from /models is exported at its first start.
RUN python -c "from ocr_lstm import Recognizer; Recognizer(device='cpu')"
EXPOSE 8000
# A checkpoint in the /models volume, or the name of a bundled model.
ENV OCR_LSTM_MODEL=default
# HEALTHCHECK_PORT: the port the server listens on, where a run changes it (host networking).
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('HEALTHCHECK_PORT', '8000'), timeout=2).status != 200)"]
CMD ["ocr-lstm", "serve", "--host", "0.0.0.0", "--port", "8000"]
