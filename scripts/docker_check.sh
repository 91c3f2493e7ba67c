#!/usr/bin/env bash
# Builds the Docker image and checks it end to end against a real Docker engine:
#   engine -> (local base) -> build -> run -> /readyz -> a recognition -> Docker's healthcheck
#   -> graceful stop -> docker compose config / up / down -> cleanup.
# Every server it starts uses host networking and listens on 127.0.0.1 only, on a free port.
# Prints what it checks; exits non-zero at the first failure. docs/service.md, "Docker", has a run.
#
# Usage: scripts/docker_check.sh [options]
#   --local-base     build the base image from Debian packages (debootstrap, root) and import it as
#                    $BASE_TAG, for machines that cannot pull python:3.11-slim; kept for the next run
#   --rebuild-base   with --local-base: build it again even if $BASE_TAG exists
#   --local-wheels   install from a wheelhouse that this machine's pip downloads ($WHEELHOUSE) and a
#                    loopback HTTP server serves to the build, for builds that cannot reach the
#                    package indexes themselves. It holds what this machine's pip resolves for
#                    torch==$TORCH_VERSION (here PyPI's CUDA build: see docs/service.md)
#   --train          build the train target too and smoke-test it (torch, the fonts, `train --help`);
#                    the legacy builder (no buildx) builds that stage in any case, and tags it
#   --no-cache       build without Docker's layer cache (a cold build's time)
#   --remove-images  remove the images it built at the end (untagged leftovers of this project's
#                    builds are always pruned)
# Environment: IMAGE (ocr-lstm:check), TRAIN_IMAGE (ocr-lstm-train:check), BASE_TAG
# (ocr-lstm-base:bookworm), BASE_IMAGE (the build's base; default $BASE_TAG with --local-base, else
# the Dockerfile's), DEBIAN_MIRROR (the one apt uses here), WHEELHOUSE
# (~/.cache/ocr-lstm-docker/wheelhouse), WHEEL_PORT (38765, its loopback server), PYTHON
# (.venv/bin/python, with PyYAML: the pip that fills the wheelhouse, and the compose step's editor),
# TORCH_VERSION / TORCHVISION_VERSION (2.14.1 / 0.29.1), READY_TIMEOUT_S (180), HEALTH_TIMEOUT_S (120).
set -euo pipefail

cd "$(dirname "$0")/.."
REPO=$(pwd)

IMAGE=${IMAGE:-ocr-lstm:check}
TRAIN_IMAGE=${TRAIN_IMAGE:-ocr-lstm-train:check}
BASE_TAG=${BASE_TAG:-ocr-lstm-base:bookworm}
WHEELHOUSE=${WHEELHOUSE:-$HOME/.cache/ocr-lstm-docker/wheelhouse}
PYTHON=${PYTHON:-$REPO/.venv/bin/python}
TORCH_VERSION=${TORCH_VERSION:-2.14.1}
TORCHVISION_VERSION=${TORCHVISION_VERSION:-0.29.1}
READY_TIMEOUT_S=${READY_TIMEOUT_S:-180}
HEALTH_TIMEOUT_S=${HEALTH_TIMEOUT_S:-120}
NAME=ocr-lstm-check-$$
PROJECT=ocrlstmcheck$$

local_base=0 rebuild_base=0 local_wheels=0 train=0 no_cache=0 remove_images=0
for arg in "$@"; do
    case $arg in
        --local-base) local_base=1 ;;
        --rebuild-base) rebuild_base=1 ;;
        --local-wheels) local_wheels=1 ;;
        --train) train=1 ;;
        --no-cache) no_cache=1 ;;
        --remove-images) remove_images=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option: $arg (see --help)" >&2; exit 2 ;;
    esac
done

step() { printf '\n== %s\n' "$*"; }
ok() { printf '   ok: %s\n' "$*"; }
fail() { printf '   FAIL: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
# Prints a container's health once Docker has decided it (healthy or unhealthy), or what it is when
# HEALTH_TIMEOUT_S have passed since $2.
wait_for_health() {
    local health=starting
    while [ "$(awk -v s="$(since "$2")" -v t="$HEALTH_TIMEOUT_S" 'BEGIN { print (s < t) }')" = 1 ]; do
        health=$(docker inspect --format '{{.State.Health.Status}}' "$1")
        [ "$health" = healthy ] || [ "$health" = unhealthy ] && break
        sleep 1
    done
    echo "$health"
}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# --- cleanup, whatever happens -------------------------------------------------------------------
tmp=$(mktemp -d)
server_pid=""
compose_up=0
made_models=0
[ -e models ] || made_models=1
cleanup() {
    status=$?
    set +e
    docker rm -f "$NAME" >/dev/null 2>&1
    if [ "$compose_up" = 1 ]; then
        "${compose[@]}" -p "$PROJECT" -f "$tmp/compose.host.yml" down --remove-orphans >/dev/null 2>&1
    fi
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    # Docker creates a missing bind-mount source (./models) as an empty folder: remove ours.
    [ "$made_models" = 1 ] && [ -d models ] && rmdir models 2>/dev/null
    if [ "$remove_images" = 1 ]; then
        docker rmi "$IMAGE" "$TRAIN_IMAGE" >/dev/null 2>&1
    fi
    # What a rebuild replaced, or a failed build left: this project's untagged images (several GB each).
    docker image prune -f --filter "label=org.opencontainers.image.title=ocr-lstm" >/dev/null 2>&1
    rm -rf "$tmp"
    if [ "$status" = 0 ]; then echo; echo "docker check: all passed"; else echo; echo "docker check: FAILED" >&2; fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the engine ----------------------------------------------------------------------------------
step "Docker engine"
command -v docker >/dev/null || fail "no docker client on PATH"
server=$(docker version --format '{{.Server.Version}}' 2>/dev/null) || fail "no Docker engine answers (start dockerd)"
ok "client $(docker version --format '{{.Client.Version}}'), engine $server, storage driver $(docker info --format '{{.Driver}}')"
if docker compose version >/dev/null 2>&1; then
    compose=(docker compose)
elif command -v docker-compose >/dev/null; then
    compose=(docker-compose)
else
    fail "no compose client (docker compose plugin or docker-compose)"
fi
ok "compose: ${compose[*]} ($("${compose[@]}" version --short 2>/dev/null || "${compose[@]}" version | head -1))"

# --- the base image ------------------------------------------------------------------------------
if [ "$local_base" = 1 ]; then
    step "Local base image $BASE_TAG (Debian bookworm: python3, python3-venv, python3-pip)"
    if [ "$rebuild_base" = 0 ] && docker image inspect "$BASE_TAG" >/dev/null 2>&1; then
        ok "already there, reused (--rebuild-base builds it again)"
    else
        command -v debootstrap >/dev/null || fail "debootstrap is needed for --local-base (apt-get install debootstrap)"
        [ "$(id -u)" = 0 ] || fail "--local-base needs root (debootstrap)"
        if [ -z "${DEBIAN_MIRROR:-}" ]; then
            DEBIAN_MIRROR=$(sed -n 's/^URIs: *\(.*debian\/*\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
            DEBIAN_MIRROR=${DEBIAN_MIRROR:-$(awk '$1 == "deb" && $2 ~ /debian\/?$/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null)}
            DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
        fi
        start=$(now)
        debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
            bookworm "$tmp/rootfs" "$DEBIAN_MIRROR" > "$tmp/debootstrap.log" 2>&1 \
            || { tail -20 "$tmp/debootstrap.log" >&2; fail "debootstrap from $DEBIAN_MIRROR"; }
        rm -rf "$tmp"/rootfs/var/cache/apt/archives/*.deb "$tmp"/rootfs/var/lib/apt/lists/*
        old_base=$(docker image inspect --format '{{.Id}}' "$BASE_TAG" 2>/dev/null || true)
        tar -C "$tmp/rootfs" -c . | docker import -c 'ENV LANG=C.UTF-8' -c 'CMD ["/bin/bash"]' - "$BASE_TAG" >/dev/null
        if [ -n "$old_base" ]; then docker rmi "$old_base" >/dev/null 2>&1 || true; fi
        rm -rf "$tmp/rootfs"
        ok "debootstrap from $DEBIAN_MIRROR and docker import in $(since "$start") s"
    fi
    BASE_IMAGE=${BASE_IMAGE:-$BASE_TAG}
    ok "$(docker run --rm "$BASE_IMAGE" python3 --version), $(docker image inspect --format '{{.Size}}' "$BASE_IMAGE" | awk '{ printf "%.0f MB", $1 / 1e6 }')"
fi

build_args=(--build-arg "TORCH_VERSION=$TORCH_VERSION" --build-arg "TORCHVISION_VERSION=$TORCHVISION_VERSION")
[ -n "${BASE_IMAGE:-}" ] && build_args+=(--build-arg "BASE_IMAGE=$BASE_IMAGE")

# --- the packages --------------------------------------------------------------------------------
if [ "$local_wheels" = 1 ]; then
    step "Local wheelhouse $WHEELHOUSE"
    [ -x "$PYTHON" ] || fail "no $PYTHON (make setup), or set PYTHON to a Python 3.11 with pip"
    pyver=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    [ "$pyver" = 3.11 ] || fail "$PYTHON is Python $pyver: the image's Python is 3.11 and so must the wheelhouse's be"
    mkdir -p "$WHEELHOUSE"
    start=$(now)
    # The project's own requirements and the pinned torch, as this machine's pip resolves them.
    "$PYTHON" -m pip download -q --disable-pip-version-check --only-binary=:all: -d "$WHEELHOUSE" \
        "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION" ".[service,train]" setuptools wheel \
        > "$tmp/download.log" 2>&1 || { tail -20 "$tmp/download.log" >&2; fail "pip download"; }
    rm -f "$WHEELHOUSE"/ocr_lstm-* "$WHEELHOUSE"/ocr-lstm-*
    ok "$(find "$WHEELHOUSE" -name '*.whl' | wc -l) wheels, $(du -sh "$WHEELHOUSE" | cut -f1), in $(since "$start") s ($(cd "$WHEELHOUSE" && ls torch-* torchvision-* | tr '\n' ' '))"
    # A fixed port: the URL is a build argument, and a new one would miss Docker's layer cache.
    wheel_port=${WHEEL_PORT:-38765}
    if curl -s -o /dev/null "http://127.0.0.1:$wheel_port/"; then
        wheel_port=$(free_port)
        echo "   note: port ${WHEEL_PORT:-38765} is taken; $wheel_port instead (the pip layers are rebuilt)"
    fi
    python3 -m http.server --bind 127.0.0.1 --directory "$WHEELHOUSE" "$wheel_port" > "$tmp/http.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 50); do curl -fs -o /dev/null "http://127.0.0.1:$wheel_port/" && break; sleep 0.2; done
    curl -fs -o /dev/null "http://127.0.0.1:$wheel_port/" || fail "the wheelhouse server did not start"
    ok "served on http://127.0.0.1:$wheel_port/ for the build (pip --no-index --find-links)"
    build_args+=(--build-arg PIP_NO_INDEX=1 --build-arg "PIP_FIND_LINKS=http://127.0.0.1:$wheel_port/")
fi
# --no-cache on the first build only: the next one builds on its new layers, so misses the cache anyway.
first_build=()
[ "$no_cache" = 1 ] && first_build=(--no-cache)

# --- build ---------------------------------------------------------------------------------------
# The legacy builder (no buildx) builds every stage before the target, so there the train stage,
# which comes first in the file, is built and tagged first: its time is its own, and it is not
# left untagged (dangling) to be pruned.
build_train=$train
legacy=0
docker buildx version >/dev/null 2>&1 || { legacy=1; build_train=1; }
if [ "$build_train" = 1 ]; then
    step "docker build --target train -t $TRAIN_IMAGE"
    [ "$legacy" = 1 ] && echo "   note: the legacy builder (no buildx) would build this stage for the api target anyway"
    start=$(now)
    docker build --force-rm --network host --target train -t "$TRAIN_IMAGE" "${build_args[@]}" "${first_build[@]}" . \
        > "$tmp/build-train.log" 2>&1 || { tail -40 "$tmp/build-train.log" >&2; fail "docker build (train)"; }
    ok "built in $(since "$start") s; image size $(docker image inspect --format '{{.Size}}' "$TRAIN_IMAGE" | awk '{ printf "%.2f GB", $1 / 1e9 }')"
    first_build=()
fi

step "docker build --target api -t $IMAGE"
start=$(now)
docker build --force-rm --network host --target api -t "$IMAGE" "${build_args[@]}" "${first_build[@]}" . \
    > "$tmp/build.log" 2>&1 \
    || { tail -40 "$tmp/build.log" >&2; fail "docker build (api)"; }
build_s=$(since "$start")
size=$(docker image inspect --format '{{.Size}}' "$IMAGE")
ok "built in $build_s s; image size $(awk -v s="$size" 'BEGIN { printf "%.2f GB (%.0f bytes)", s / 1e9, s }')"
versions=$(docker run --rm --network none "$IMAGE" python -c \
    'import sys, torch, torchvision; print(sys.version.split()[0], torch.__version__, torchvision.__version__)')
ok "python, torch, torchvision in the image: $versions"
case $versions in
    *" $TORCH_VERSION"*" $TORCHVISION_VERSION"*) ;;
    *) fail "the image's torch/torchvision are not $TORCH_VERSION/$TORCHVISION_VERSION" ;;
esac
# The Dockerfile exports the bundled model at build time, so the server starts on ONNX Runtime alone.
cached=$(docker run --rm --network none "$IMAGE" sh -c 'ls "$HOME/.cache/ocr-lstm/onnx" 2>/dev/null | grep -c "\.onnx$"' || true)
[ "${cached:-0}" -ge 2 ] || fail "the bundled model's ONNX graphs are not in the image's cache (~/.cache/ocr-lstm/onnx)"
ok "the bundled model's ONNX graphs are in the image: $cached files in ~/.cache/ocr-lstm/onnx"
case $versions in *+cpu*) ok "CPU build of torch" ;; *) echo "   note: not torch's CPU build ($versions)" ;; esac
[ "$(docker image inspect --format '{{.Config.User}}' "$IMAGE")" = ocr ] || fail "the image does not run as user ocr"
ok "runs as user ocr; healthcheck: $(docker image inspect --format '{{json .Config.Healthcheck.Test}}' "$IMAGE" | cut -c1-60)..."

# --- run -----------------------------------------------------------------------------------------
port=$(free_port)
step "docker run --network host $IMAGE on 127.0.0.1:$port"
start=$(now)
docker run -d --name "$NAME" --network host -e "HEALTHCHECK_PORT=$port" -e OCR_LSTM_THREADS=1 \
    "$IMAGE" ocr-lstm serve --host 127.0.0.1 --port "$port" >/dev/null
code=000
while [ "$(awk -v s="$(since "$start")" -v t="$READY_TIMEOUT_S" 'BEGIN { print (s < t) }')" = 1 ]; do
    code=$(curl -s -o "$tmp/readyz.json" -w '%{http_code}' "http://127.0.0.1:$port/readyz" || true)
    [ "$code" = 200 ] && break
    [ "$(docker inspect --format '{{.State.Running}}' "$NAME")" = true ] || break
    sleep 0.25
done
[ "$code" = 200 ] || { docker logs "$NAME" 2>&1 | tail -30 >&2; fail "/readyz answered $code"; }
ok "/readyz 200 after $(since "$start") s: $(cat "$tmp/readyz.json")"

# A clean word image, drawn inside the container with matplotlib's bundled DejaVu Sans.
docker exec "$NAME" python -c '
import io, os, sys
import matplotlib
from PIL import Image, ImageDraw, ImageFont
font = ImageFont.truetype(os.path.join(matplotlib.get_data_path(), "fonts/ttf/DejaVuSans.ttf"), 34)
left, top, right, bottom = font.getbbox("hello")
image = Image.new("RGB", (right - left + 16, bottom - top + 16), "white")
ImageDraw.Draw(image).text((8 - left, 8 - top), "hello", font=font, fill="black")
buffer = io.BytesIO(); image.save(buffer, "PNG"); sys.stdout.buffer.write(buffer.getvalue())
' > "$tmp/hello.png"
recognized=$(curl -s -F "file=@$tmp/hello.png" "http://127.0.0.1:$port/v1/recognize")
echo "   POST /v1/recognize (a rendered 'hello'): $recognized"
case $recognized in *'"text":"hello"'*) ok "recognized 'hello'" ;; *) fail "recognition" ;; esac

start=$(now)
health=$(wait_for_health "$NAME" "$start")
[ "$health" = healthy ] || { docker inspect --format '{{json .State.Health}}' "$NAME" >&2; fail "Docker's healthcheck says $health"; }
ok "Docker's healthcheck: healthy, $(since "$start") s after the first recognition; probes' exit codes: $(docker inspect --format '{{range .State.Health.Log}}{{.ExitCode}} {{end}}' "$NAME")"
[ "$(docker exec "$NAME" id -u)" = 1000 ] || fail "the server does not run as uid 1000"
ok "the server runs as uid 1000"

start=$(now)
docker stop "$NAME" >/dev/null
exit_code=$(docker inspect --format '{{.State.ExitCode}}' "$NAME")
[ "$exit_code" = 0 ] || { docker logs "$NAME" 2>&1 | tail -10 >&2; fail "docker stop: exit code $exit_code"; }
ok "docker stop (SIGTERM): exit 0 in $(since "$start") s; $(docker logs "$NAME" 2>&1 | grep -c 'POST /v1/recognize') recognition(s) logged"
docker rm "$NAME" >/dev/null

# --- the train target ----------------------------------------------------------------------------
if [ "$train" = 1 ]; then
    step "the train image $TRAIN_IMAGE"
    docker run --rm --network none "$TRAIN_IMAGE" sh -c \
        'python -c "import torch, training; print(\"torch\", torch.__version__)" && ls /usr/share/fonts/truetype | tr "\n" " " && ocr-lstm train --help | head -1' \
        > "$tmp/train.out" 2>&1 || { cat "$tmp/train.out" >&2; fail "the train image"; }
    ok "$(tr '\n' ' ' < "$tmp/train.out")"
fi

# --- docker compose ------------------------------------------------------------------------------
step "${compose[*]} config"
"${compose[@]}" config -q || fail "compose config"
services=$("${compose[@]}" --profile train config --services | sort | tr '\n' ' ')
[ "$services" = "api train " ] || fail "compose services: $services"
ok "docker-compose.yml is valid; services: $services"

port=$(free_port)
key=check-$$
# Host networking for the check (nothing is published; the server listens on 127.0.0.1:$port and
# the healthcheck asks there). An override file cannot drop the file's `ports` (v1 merges lists,
# and "host" network_mode is incompatible with port_bindings), so the resolved file is edited:
# `compose config` of docker-compose.yml, then only these keys of the api service changed.
export OCR_LSTM_IMAGE=$IMAGE OCR_LSTM_API_KEY=$key OCR_LSTM_THREADS=1
"${compose[@]}" -f docker-compose.yml config > "$tmp/compose.resolved.yml" || fail "compose config"
"$PYTHON" - "$tmp/compose.resolved.yml" "$tmp/compose.host.yml" "$port" <<'EOF' || fail "editing the resolved compose file"
import sys

import yaml

source, target, port = sys.argv[1:]
with open(source) as file:
    config = yaml.safe_load(file)
config["services"] = {"api": config["services"]["api"]}
api = config["services"]["api"]
print("   the file publishes", api.pop("ports"), "; for the check: network_mode host, 127.0.0.1:" + port)
api["network_mode"] = "host"
api["command"] = ["ocr-lstm", "serve", "--host", "127.0.0.1", "--port", port]
api["environment"]["HEALTHCHECK_PORT"] = port
with open(target, "w") as file:
    yaml.safe_dump(config, file, sort_keys=False)
EOF
step "${compose[*]} up -d api (image $IMAGE, host networking, 127.0.0.1:$port, an API key)"
start=$(now)
compose_up=1
"${compose[@]}" -p "$PROJECT" -f "$tmp/compose.host.yml" up -d --no-build api \
    > "$tmp/compose.log" 2>&1 || { cat "$tmp/compose.log" >&2; fail "compose up"; }
container=$("${compose[@]}" -p "$PROJECT" -f "$tmp/compose.host.yml" ps -q api)
[ -n "$container" ] || fail "compose started no api container"
health=$(wait_for_health "$container" "$start")
[ "$health" = healthy ] || { docker logs "$container" 2>&1 | tail -20 >&2; fail "compose api: $health"; }
ok "compose api container healthy after $(since "$start") s (restart policy $(docker inspect --format '{{.HostConfig.RestartPolicy.Name}}' "$container"))"
code=$(curl -s -o "$tmp/readyz.json" -w '%{http_code}' "http://127.0.0.1:$port/readyz")
[ "$code" = 200 ] || fail "compose /readyz answered $code"
ok "/readyz 200: $(cat "$tmp/readyz.json")"
code=$(curl -s -o /dev/null -w '%{http_code}' -F "file=@$tmp/hello.png" "http://127.0.0.1:$port/v1/recognize")
[ "$code" = 401 ] || fail "without the API key /v1/recognize answered $code, not 401"
ok "/v1/recognize without X-API-Key: 401"
recognized=$(curl -s -H "X-API-Key: $key" -F "file=@$tmp/hello.png" "http://127.0.0.1:$port/v1/recognize")
echo "   POST /v1/recognize with the key: $recognized"
case $recognized in *'"text":"hello"'*) ok "recognized 'hello' through compose" ;; *) fail "compose recognition" ;; esac

step "${compose[*]} down"
"${compose[@]}" -p "$PROJECT" -f "$tmp/compose.host.yml" down --remove-orphans \
    > "$tmp/compose-down.log" 2>&1 || { cat "$tmp/compose-down.log" >&2; fail "compose down"; }
compose_up=0
[ -z "$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT")" ] || fail "compose left containers"
ok "stopped and removed"
