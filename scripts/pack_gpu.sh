#!/usr/bin/env bash
# Build .gpu/ (git-ignored): what a lent GPU machine lacks, for scripts/gpu_train.sh to use there.
# The real crops as one .tgz of 32 px grey PNGs, cp312 wheels, wordfreq with English only, small fonts
# and a dozen wallpapers (training/pack.py says why each). Then says how much would travel: the tree
# and .gpu together, counted on disk as the device tool counts them, must stay under 64 MiB.
#   scripts/pack_gpu.sh                  # from ../shared/data
#   scripts/pack_gpu.sh --data DIR       # other arguments go to python -m training.pack
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
export OMP_WAIT_POLICY=PASSIVE
"$PY" -m training.pack "$@"
scripts/gpu_train.sh --size
