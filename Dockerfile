# The REST service (target "api", the default) and a GPU training image (target "train").
# Build: docker build -t ocr-lstm .   Run: docker compose up   (see docs/service.md)
FROM python:3.11-slim AS api

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OMP_WAIT_POLICY=PASSIVE

WORKDIR /app
COPY pyproject.toml README.md ./
COPY ocr_lstm ocr_lstm
COPY service service
COPY training training
# The service's extra, and training's for the "train" target below, which builds on this image.
RUN pip install '.[service,train]' && useradd --create-home --uid 1000 ocr

USER ocr
EXPOSE 8000
# A checkpoint in the /models volume, or the name of a bundled model.
ENV OCR_LSTM_MODEL=default
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
CMD ["ocr-lstm", "serve", "--host", "0.0.0.0", "--port", "8000"]


# Training adds the fonts and backgrounds the synthetic generator renders with
# (the list in scripts/install_system_deps.sh, less the browser used by the tests).
FROM api AS train
USER root
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core fonts-liberation fonts-freefont-ttf \
       fonts-urw-base35 fonts-roboto fonts-open-sans fonts-noto-core gnome-backgrounds mate-backgrounds \
    && rm -rf /var/lib/apt/lists/*
USER ocr
CMD ["ocr-lstm", "train", "--config", "bundled", "--output", "/runs/bundled", "--set", "synth_cache=/runs/synth_pool"]
