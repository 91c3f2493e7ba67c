#!/usr/bin/env bash
# One call on a lent GPU machine (docs/training.md): install what its image lacks from .gpu/ (built by
# scripts/pack_gpu.sh and carried by the call), unpack the real crops, train CONFIG for MINUTES, bundle
# fp16 candidates and the logs under $OUT, and print samples/s, the GPU's busy share and the validation.
#
#   scripts/gpu_train.sh training/configs/gpu_small.toml 8             # there, from the repository root
#   scripts/gpu_train.sh training/configs/gpu_small.toml 8 --dry-run   # here, on the CPU: the same path
#       with a tiny model for a few seconds, then whether the real call would fit its time and 64 MiB
#   scripts/gpu_train.sh --size                                        # what the call would carry
#
# MINUTES is the training loop's budget (max_minutes: the schedule ends decayed when it is up). Start-up
# comes before it, the final validation and the bundling after, and the call ends at CALL_SECONDS (600,
# the device tool's limit on one command): MINUTES is shortened to fit, and `timeout` sends SIGTERM
# (the run saves and ends) if start-up took longer than planned.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
G=${GPU_DIR:-$ROOT/.gpu}
LIMIT_KIB=$((64 * 1024))
USAGE="usage: scripts/gpu_train.sh CONFIG MINUTES [--dry-run] | --size"

travel_size() {  # KiB on disk: the tracked and untracked-not-ignored files, and the carried .gpu
  local tree gpu=0
  tree=$(git ls-files -co --exclude-standard -z | du -ck --files0-from=- 2>/dev/null | tail -1 | cut -f1)
  [ -d "$G" ] && gpu=$(du -sk "$G" | cut -f1)
  echo "travels: tree ${tree} KiB + $(basename "$G") ${gpu} KiB = $((tree + gpu)) KiB of ${LIMIT_KIB} KiB"
  [ $((tree + gpu)) -lt $LIMIT_KIB ]
}
seconds() { awk "BEGIN { printf \"%d\", $1 }"; }

if [ "${1:-}" = "--size" ]; then travel_size; exit $?; fi
CONFIG=${1:?$USAGE}
MINUTES=${2:?$USAGE}
DRY=0
if [ "${3:-}" = "--dry-run" ]; then DRY=1; elif [ -n "${3:-}" ]; then echo "$USAGE"; exit 2; fi
CALL_SECONDS=${CALL_SECONDS:-600}
FINAL=20            # after the loop, in the training process: the last validation and save
AFTER=30            # after the training process: two bundles, the logs, the report
SETUP_GPU=25        # there, after the unpacking: Python and torch start, real sets decoded (~13.5 k crops)
RENDER_GPU=1360     # crops/s the pool renders at there (60,000 in 44 s with 16 processes)
DRY_MINUTES=0.2     # the dry run's training loop
T0=$(date +%s)
STEM=$(basename "$CONFIG" .toml)
if [ $DRY = 1 ]; then
  WORK=$(mktemp -d /tmp/gpu_dry.XXXXXX)
  trap 'rm -rf "$WORK"' EXIT
  OUT=${OUT:-$WORK/out}
  RUN=$WORK/run
  PY=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}
else
  OUT=${OUT:-$ROOT/runs/gpu-out}
  RUN=$ROOT/runs/gpu-$STEM
  PY=${PYTHON:-python3}
fi
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1
say() { echo "== $(date +%T) +$(($(date +%s) - T0)) s: $*"; }
export OMP_WAIT_POLICY=PASSIVE PYTHONUNBUFFERED=1

# 1. What the GPU image lacks: packages (from carried wheels), fonts and wallpapers where the renderer looks.
count() { find "$1" -maxdepth 1 -type f 2>/dev/null | wc -l; }
if [ $DRY = 0 ]; then
  [ -d "$G" ] || { echo "no $G: run scripts/pack_gpu.sh first and carry .gpu"; exit 2; }
  SITE=/tmp/ocr_lstm_site
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" "$G"/whl/*.whl \
    || echo "warning: not every wheel installed; going on without"
  export PYTHONPATH=$SITE:$G/site:$ROOT
  mkdir -p "$HOME/.fonts" /usr/share/backgrounds/ocr_lstm
  cp "$G"/fonts/* "$HOME/.fonts/" 2>/dev/null
  cp "$G"/bg/* /usr/share/backgrounds/ocr_lstm/ 2>/dev/null
  say "installed $(count "$G/whl") wheels, $(count "$G/fonts") fonts, $(count "$G/bg") wallpapers"
else
  say "dry run: would install $(count "$G/whl") wheels, $(count "$G/fonts") fonts, $(count "$G/bg") wallpapers; uses this machine's"
fi

# 1b. The CUDA tests first (skipped on a CPU): an AMP step, DDP over NCCL, GPU and CPU readings, pinned batches.
if [ "${CUDA_TESTS:-1}" = 1 ]; then
  say "CUDA tests (CUDA_TESTS=0 leaves them out)"
  timeout 180 "$PY" -m pytest -q -rs -p no:cacheprovider tests/training/test_cuda.py 2>&1 | tail -12
fi

# 2. The real crops, where the GPU configs read them (data/ is git-ignored: it does not travel back).
DATA=()
if [ -f "$G/real.tgz" ]; then
  if [ ! -f data/gpu/real/.unpacked ]; then
    mkdir -p data/gpu && tar -xzf "$G/real.tgz" -C data/gpu && touch data/gpu/real/.unpacked || exit 1
  fi
  say "real crops unpacked in data/gpu/real"
elif [ $DRY = 1 ]; then
  DATA=(--set "real_sets=[]" --set "val_sets=[]" --set synth_val_count=32)
  say "no packed crops: synthetic data only"
else
  echo "no $G/real.tgz: run scripts/pack_gpu.sh first"; exit 2
fi

# 3. The plan: does the call fit its time? MINUTES is shortened so that it does.
SYNTH=$("$PY" -c "from training.config import TrainConfig; print(TrainConfig.from_file('$CONFIG').synth_count)") \
  || { echo "cannot read $CONFIG"; exit 2; }
START=$((SETUP_GPU + SYNTH / RENDER_GPU))
ELAPSED=$(($(date +%s) - T0))
FITS=$((CALL_SECONDS - ELAPSED - START - FINAL - AFTER))
PLANNED=$(seconds "$MINUTES * 60")
TRAIN_MINUTES=$MINUTES
if [ "$PLANNED" -gt "$FITS" ]; then
  TRAIN_MINUTES=$(awk "BEGIN { printf \"%.2f\", $FITS / 60 }")
  echo "warning: $MINUTES min of training do not fit the ${CALL_SECONDS} s call; training $TRAIN_MINUTES min"
fi
TOTAL=$((ELAPSED + START + $(seconds "$TRAIN_MINUTES * 60") + FINAL + AFTER))
say "plan on the GPU: setup ${ELAPSED} s + start-up ~${START} s (pool of ${SYNTH} crops at ~${RENDER_GPU}/s) +" \
  "training $(seconds "$TRAIN_MINUTES * 60") s + last validation ${FINAL} s + bundling ${AFTER} s = $TOTAL s of ${CALL_SECONDS} s"

# 4. Train, with the GPU's busy share recorded beside it.
ARGS=(--config "$CONFIG" --set "output=$RUN" "${DATA[@]}")
if [ $DRY = 1 ]; then
  ARGS+=(--set device=cpu --set model_size=tiny --set init= --set batch_size=16 --set data_workers=2
         --set synth_count=256 --set render_workers=1 --set "synth_cache=$WORK/pool" --set threads=1
         --set val_limit=64 --set log_every=5 --set val_every=100000 --set checkpoint_minutes=0
         --set "max_minutes=$DRY_MINUTES")
else
  ARGS+=(--set "max_minutes=$TRAIN_MINUTES")
fi
DMON=
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi dmon -s u -d 5 -o T > "$OUT/dmon.txt" 2>&1 &
  DMON=$!
fi
LEFT=$((CALL_SECONDS - ($(date +%s) - T0) - AFTER))
say "training $STEM ($([ $DRY = 1 ] && echo "tiny, $DRY_MINUTES min on the CPU" || echo "$TRAIN_MINUTES min")), stopped by SIGTERM after ${LEFT} s at the latest"
TRAIN_START=$(date +%s)
timeout -s TERM -k 30 "$LEFT" "$PY" -m training.train "${ARGS[@]}" 2>&1 | tr '\r' '\n' | grep -v -E "(it|img|step)/s[],]|^ *$"
RC=${PIPESTATUS[0]}
TRAIN_SECONDS=$(($(date +%s) - TRAIN_START))
[ -n "$DMON" ] && kill "$DMON" 2>/dev/null
say "training ended (exit $RC) after ${TRAIN_SECONDS} s"

# 5. Candidates (fp16, <= 16 MB a file), logs, and what the run did.
for name in best last; do
  if [ -f "$RUN/$name.safetensors" ]; then
    "$PY" -m training.bundle "$RUN/$name" --output "$OUT/${STEM}_$name" || RC=1
  fi
done
LOGS=$(cd "$RUN" 2>/dev/null && ls train_log.csv val_log.csv config.json curves.png 2>/dev/null)
[ -n "$LOGS" ] && tar -czf "$OUT/logs.tgz" -C "$RUN" $LOGS
"$PY" -m training.gpu_report "$RUN" --dmon "$OUT/dmon.txt"
FILES=$(find "$OUT" -type f | wc -l)
BIG=$(find "$OUT" -type f -size +16M | wc -l)
say "\$OUT holds $FILES files (at most 8 come back), $BIG over 16 MB: $(cd "$OUT" && ls | tr '\n' ' ')"
[ "$FILES" -le 8 ] && [ "$BIG" = 0 ] || RC=1

if [ $DRY = 1 ]; then
  travel_size || RC=1
  if [ "$TOTAL" -le "$CALL_SECONDS" ]; then
    say "the GPU call would fit: $TOTAL s of $CALL_SECONDS s"
  else
    say "the GPU call would NOT fit: $TOTAL s of $CALL_SECONDS s"
    RC=1
  fi
fi
say "done (exit $RC)"
exit "$RC"
