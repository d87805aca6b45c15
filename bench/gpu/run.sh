#!/usr/bin/env bash
# The GPU check, in one call on a machine with an NVIDIA GPU and Python with torch, transformers,
# onnx and onnxruntime, but no Node (the workplace's device machine). Prepare here first:
#
#   bench/gpu/pack.sh            # fills .gpu/ (git-ignored): node, onnxruntime-node, bundle, inputs
#
# then run, from the repository root there, with .gpu and .gl (Vulkan loader debs) carried:
#
#   bash bench/gpu/run.sh        # writes logs and JSON figures to $OUT (or /tmp/gpu-out)
#
# 1. tools/export_pickscore.py --random-init h14 --fp16, without and with --optimize
# 2. PyTorch fp16 images/s through the same image tower (the reference)
# 3. the studio's scoring path (openEncoders) on WebGPU for both exports, and WebGPU variants
# Set SKIP_TORCH=1 or SKIP_PARITY=1 to leave those steps out of a rerun.
# 4. parity: a ViT-B/16-sized fp32 export scored by the studio (WebGPU and CPU) against
#    transformers' CLIPModel + CLIPProcessor on inputs made by bench/gpu/prepare.ts
set -uo pipefail
OUT=${OUT:-/tmp/gpu-out}
mkdir -p "$OUT"
START=$(date +%s)
BUDGET=${BUDGET:-500}
log() { echo "[$(($(date +%s) - START))s] $*" | tee -a "$OUT/run.log"; }
left() { echo $((BUDGET - ($(date +%s) - START))); }
step() {
  local name=$1
  shift
  log "$name: $*"
  "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"
  local rc=$?
  tail -n 4 "$OUT/$name.err" | sed "s/^/  $name stderr: /" | tee -a "$OUT/run.log"
  log "$name: exit $rc"
  return $rc
}

for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
mkdir -p /tmp/node-bin
xz -dc .gpu/node.xz >/tmp/node-bin/node && chmod +x /tmp/node-bin/node
tar -C .gpu -xJf .gpu/ort.tar.xz
NODE=/tmp/node-bin/node
M=/tmp/models
FIX=tests/fixtures/clip-tokenizer
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee -a "$OUT/run.log"
python3 -c "import torch, transformers, onnx, onnxruntime; print('torch', torch.__version__, 'transformers', transformers.__version__, 'onnx', onnx.__version__, 'onnxruntime', onnxruntime.__version__)" | tee -a "$OUT/run.log"

EXPORT=(python3 tools/export_pickscore.py --processor-dir "$FIX" --device cuda)
webgpu() {
  [ -f $M/$1/manifest.json ] || return 0
  BATCHES=16,32 step webgpu-$1 $NODE .gpu/webgpu.mjs speed $M/$1 webgpu
}
# The most wanted figures first, each later step only while time is left.
step export-h14-fp16 "${EXPORT[@]}" --random-init h14 --fp16 --no-check --out $M/h14-fp16
webgpu h14-fp16
[ -n "${SKIP_TORCH:-}" ] || step torch-speed python3 bench/gpu/reference.py speed --arch h14 --batches 16,32,64
if [ "$(left)" -gt 200 ]; then
  step export-h14-fp16-opt "${EXPORT[@]}" --random-init h14 --fp16 --optimize --no-check \
    --out $M/h14-fp16-opt
  webgpu h14-fp16-opt
else
  log "skipping --optimize: $(left) s left"
fi
if [ -n "${SKIP_PARITY:-}" ]; then
  log "parity skipped (SKIP_PARITY)"
elif [ "$(left)" -gt 120 ]; then
  step export-b16 "${EXPORT[@]}" --random-init b16 --check-pairs 2 --out $M/b16
  step scores-b16-webgpu $NODE .gpu/webgpu.mjs scores $M/b16 webgpu .gpu/parity/inputs.json
  step scores-b16-cpu $NODE .gpu/webgpu.mjs scores $M/b16 cpu .gpu/parity/inputs.json
  step parity-b16 python3 bench/gpu/reference.py parity --arch b16 --inputs .gpu/parity \
    "$OUT/scores-b16-webgpu.out" "$OUT/scores-b16-cpu.out"
else
  log "skipping parity: $(left) s left"
fi
ls -la $M/* >"$OUT/models.txt" 2>&1

echo "==== summary"
for f in "$OUT"/export-*.err; do echo "-- $f"; grep -iE "max|differ|took|wrote|fused|fusion|p0" "$f" | tail -n 8; done
for f in "$OUT"/torch-speed.out "$OUT"/webgpu-*.out "$OUT"/parity-b16.out; do
  [ -f "$f" ] && { echo "-- $f"; cat "$f"; }
done
log done
