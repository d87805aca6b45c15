#!/usr/bin/env bash
# The device check of tools/embed_pickscore.py, in one call on the workplace's GPU machine (Python
# with torch and transformers, no `datasets`). Prepare here first, in the repository root:
#
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#     --implementation cp --platform manylinux_2_28_x86_64 -d .whl \
#     datasets==5.0.1 dill==0.4.1 multiprocess==0.70.19 fsspec==2026.6.0
#
# then run with .whl carried: bash bench/gpu/embed.sh (run.log, the tiny embeddings, tiny.tar.xz and
# logs.tar.gz to $OUT).
# 1. parity: a tiny random-init model embedded on the CPU and on CUDA, compared row by row and as
#    p0; the model folder and the shard come back (tiny.tar.xz) for the studio's own check
#    (PARITY=0 leaves it out)
# 2. preprocessing alone on 1, 2, 4 ... every core's threads: the processor, and the tool's
#    threads' decode, resize and crop (bench/gpu/preprocess.py)
# 3. speed: ViT-H/14 (random init) fp16 on CUDA over IMAGES made-up 512x512 JPEGs, one process
#    on the one GPU, fed by each count of preprocessing threads in WORKERS (default: 1 and every
#    core), BATCH images a forward pass (default 64)
set -uo pipefail
OUT=${OUT:-/tmp/embed-out}
PY=${PY:-python3}
IMAGES=${IMAGES:-4000}
WORKERS=${WORKERS:-"1 $(nproc)"}
PARITY=${PARITY:-1}
BATCH=${BATCH:-64}
mkdir -p "$OUT"
W=$(mktemp -d)
mkdir -p "$W/logs"
START=$(date +%s.%N)
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }
log() { echo "[$(since "$START")s] $*" | tee -a "$OUT/run.log"; }
step() {
  local name=$1 t0 rc
  shift
  t0=$(date +%s.%N)
  "$@" >"$W/logs/$name.log" 2>&1
  rc=$?
  tr '\r' '\n' <"$W/logs/$name.log" | grep -E '(prompts|images): 100%' | tail -n 2 |
    sed "s/^/  $name: /" | tee -a "$OUT/run.log"
  tail -n "${TAIL:-2}" "$W/logs/$name.log" | sed "s/^/  $name: /" | tee -a "$OUT/run.log"
  log "$name: exit $rc, $(since "$t0") s"
  return $rc
}

if ! $PY -c "import datasets" 2>/dev/null; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
export HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | tee -a "$OUT/run.log"
$PY -c "import torch, transformers, datasets; print('torch', torch.__version__, 'transformers', transformers.__version__, 'datasets', datasets.__version__, 'cuda', torch.cuda.is_available())" | tee -a "$OUT/run.log"
nproc | sed 's/^/cores: /' | tee -a "$OUT/run.log"

EMBED=($PY tools/embed_pickscore.py --offline)
if [ "$PARITY" != 0 ]; then
  step shard-small $PY bench/gpu/shard.py "$W/small.parquet" 40
  step export-tiny $PY tools/export_pickscore.py --random-init tiny --seed 3 --out "$W/tiny" --offline --no-check
  for device in cpu cuda; do
    step "tiny-$device" "${EMBED[@]}" --random-init tiny --seed 3 --model-folder "$W/tiny" \
      --device $device --batch-size 16 --out "$OUT/tiny-$device.parquet" "$W/small.parquet"
  done
  step compare $PY bench/gpu/compare.py "$OUT/tiny-cpu.parquet" "$OUT/tiny-cuda.parquet" "$W/small.parquet"
  tar -C "$W" -cJf "$OUT/tiny.tar.xz" tiny small.parquet
fi

step shard-big $PY bench/gpu/shard.py "$W/big.parquet" "$IMAGES"
FIX=tests/fixtures/clip-tokenizer
TAIL=6 step preprocess $PY bench/gpu/preprocess.py "$W/big.parquet" $FIX 480 3
for workers in $WORKERS; do
  step "h14-fp16-workers$workers" "${EMBED[@]}" --random-init h14 --fp16 --device cuda \
    --fingerprint "$(printf %064d 0)" --processor $FIX --batch-size "$BATCH" --num-proc 1 \
    --workers "$workers" --out "$W/h14-$workers.parquet" "$W/big.parquet"
done
tar -C "$W" -czf "$OUT/logs.tar.gz" logs
echo "==== summary"
cat "$OUT/run.log"
