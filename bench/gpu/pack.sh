#!/usr/bin/env bash
# Fills .gpu/ (git-ignored) with what bench/gpu/run.sh needs on a machine without Node: this
# machine's node binary and onnxruntime-node's Linux x64 files, xz-compressed; the studio's
# scoring path bundled by esbuild; parity inputs from bench/gpu/prepare.ts. Also fetches the
# Vulkan loader packages into .gl/ (the WebGPU provider runs on Vulkan).
set -euo pipefail
mkdir -p .gpu .gl
[ -s .gpu/node.xz ] || xz -T0 -6 -c "$(command -v node)" >.gpu/node.xz
[ -s .gpu/ort.tar.xz ] || tar -cJf .gpu/ort.tar.xz node_modules/onnxruntime-node/package.json \
  node_modules/onnxruntime-node/dist node_modules/onnxruntime-node/bin/napi-v6/linux/x64 \
  node_modules/onnxruntime-common
npx esbuild bench/gpu/webgpu.ts --bundle --platform=node --format=esm --target=node20 \
  --external:onnxruntime-node --outfile=.gpu/webgpu.mjs
node --import tsx bench/gpu/prepare.ts .gpu/parity
if ! ls .gl/libvulkan1_*.deb >/dev/null 2>&1; then
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  mkdir -p /tmp/amd64/partial
  apt-get $o update >/dev/null
  (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi
du -sh .gpu .gl
