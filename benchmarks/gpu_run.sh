#!/usr/bin/env bash
# The GPU benchmarks in one run (a GPU machine with JAX, PyTorch and transformers).
#
#   bash benchmarks/gpu_run.sh [WHEELS] [--tiny]
#
# WHEELS (default .whl): a folder of wheels installed first into /tmp/site, for a
# machine whose Python lacks keras 3.15 / keras-hub 0.32 and cannot reach PyPI. Make it
# where PyPI is reachable, for the GPU machine's Python (3.12 here):
#   pip download --no-deps --only-binary=:all: --python-version 3.12 \
#       --platform manylinux_2_28_x86_64 -d .whl keras==3.15.1 keras-hub==0.32.0 namex optree
# About 7 minutes on an H200: the attention-mask probe (b16 s512 and b64 s128, the
# product's key-lengths path against the mask tensor and the alternatives), then
# gpu_jax.py on all-real batches and on right-padded ones. Each step has a time limit
# and a failing step does not stop the next. `--tiny` (after WHEELS) checks the three
# on a CPU with tiny shapes, as each script's own `--tiny` does.
set -u
export PYTHONUNBUFFERED=1 KERAS_BACKEND=jax XLA_PYTHON_CLIENT_PREALLOCATE=false
wheels=${1:-.whl}
shift $(( $# > 0 ? 1 : 0 ))
if ls "$wheels"/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site "$wheels"/*.whl || exit 1
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
nvidia-smi --query-gpu=name,clocks.max.sm --format=csv,noheader || true
echo "== gpu_mask_probe.py"
timeout 150 python3 benchmarks/gpu_mask_probe.py "$@"
echo "== gpu_jax.py --steps 20"
timeout 200 python3 benchmarks/gpu_jax.py --steps 20 "$@"
echo "== gpu_jax.py --steps 20 --padded"
timeout 200 python3 benchmarks/gpu_jax.py --steps 20 --padded "$@"
