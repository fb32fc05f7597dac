#!/usr/bin/env bash
# bench/gpu.sh — the traitlab bench on a real GPU (Linux + NVIDIA driver), one command.
#
#   bench/gpu.sh fetch   # once, on a Debian 12 machine with apt (e.g. the dev machine):
#                        # downloads Debian's chromium and the libraries it needs, the Vulkan/EGL
#                        # loaders, and copies this machine's node binary, into bench/.gpu-bundle/
#   bench/gpu.sh         # on the GPU machine, in a checkout that holds node_modules/ and
#                        # bench/.gpu-bundle/: unpacks the .deb files under $GPU_ROOT (never into /),
#                        # starts Chromium on the real GPU (Vulkan, not SwiftShader), generates
#                        # SmolLM2-360M-shaped random q4 and q4f16 models, runs the bench on each dtype and prints
#                        # one table (prefill/decode tok/s of a, b, c; ratios; per-token counts;
#                        # adapter). JSON per dtype goes to $OUT_DIR (default bench/.gpu-out/).
#
# Environment: MODEL (default .models/traitlab/bench-smollm2-360m), GPU_ROOT (default
# /tmp/traitlab-gpu), OUT_DIR, DTYPES (default "q4 q4f16"; q4f16 needs shader-f16 on the GPU),
# TOKENS (64), REPS (3), PROMPT (128); ALLOW_SWIFTSHADER=1 lets the run go on when Chromium finds
# no GPU (to check the script on a machine without one). Needs no network on the GPU machine.
set -euo pipefail
cd "$(dirname "$0")/.."
BUNDLE=bench/.gpu-bundle

# Debian's chromium (it bundles ANGLE and a Vulkan loader) and the packages of every library its
# binary links, less the C/C++ runtime the target brings (mixing Debian's glibc into another
# distribution breaks it), plus the EGL/GL loaders. Read from this machine's chromium install.
LOADERS="libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2"
SKIP='^(libc6|libgcc-s1|libstdc\+\+6)$'

fetch() {
  [ -x /usr/lib/chromium/chromium ] || { echo "gpu.sh fetch: needs Debian's chromium installed here (apt-get install -y chromium)" >&2; exit 2; }
  mkdir -p "$BUNDLE"
  local libs
  libs=$(ldd /usr/lib/chromium/chromium | awk '/=>/ {print $3}' | while read -r f; do
    dpkg -S "$(readlink -f "$f")" 2>/dev/null || dpkg -S "$f" 2>/dev/null || dpkg -S "/usr$f" 2>/dev/null || true
  done | cut -d: -f1 | sort -u | grep -Ev "$SKIP")
  (cd "$BUNDLE" && apt-get download chromium chromium-common $LOADERS $libs)
  cp "$(command -v node)" "$BUNDLE/node"
  du -sh "$BUNDLE"
}

unpack() {
  mkdir -p "$GPU_ROOT"
  if [ ! -f "$GPU_ROOT/.unpacked" ]; then
    for f in "$BUNDLE"/*.deb; do
      if command -v dpkg-deb >/dev/null; then dpkg-deb -x "$f" "$GPU_ROOT"
      else (d=$(mktemp -d) && cd "$d" && ar x "$OLDPWD/$f" && tar -xf data.tar.* -C "$GPU_ROOT" && rm -rf "$d"); fi
    done
    touch "$GPU_ROOT/.unpacked"
  fi
}

if [ "${1:-}" = fetch ]; then fetch; exit 0; fi

GPU_ROOT=${GPU_ROOT:-/tmp/traitlab-gpu}
OUT_DIR=${OUT_DIR:-bench/.gpu-out}
DTYPES=${DTYPES:-"q4 q4f16"}
[ -d "$BUNDLE" ] || { echo "gpu.sh: no $BUNDLE; run 'bench/gpu.sh fetch' on a Debian machine first" >&2; exit 2; }
[ -d node_modules ] || { echo "gpu.sh: no node_modules/ in $(pwd)" >&2; exit 2; }
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "gpu.sh: nvidia-smi not found"
unpack
NODE=$BUNDLE/node
[ -x "$NODE" ] || NODE=$(command -v node)

# Our libraries first for chromium's own needs; the machine's NVIDIA driver libraries stay visible.
LIBS="$GPU_ROOT/usr/lib/x86_64-linux-gnu:$GPU_ROOT/lib/x86_64-linux-gnu:$GPU_ROOT/usr/lib/chromium"
export LD_LIBRARY_PATH="$LIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
for icd in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json; do
  if [ -f "$icd" ]; then export VK_DRIVER_FILES="$icd" VK_ICD_FILENAMES="$icd"; break; fi
done
for egl in /usr/share/glvnd/egl_vendor.d/10_nvidia.json /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json; do
  if [ -f "$egl" ]; then export __EGL_VENDOR_LIBRARY_FILENAMES="$egl"; break; fi
done
export CHROMIUM_PATH="$GPU_ROOT/usr/lib/chromium/chromium"
export TRAITLAB_REAL_GPU=1 # bench/run.ts: GPU flags, and fail on a SwiftShader adapter (unless ALLOW_SWIFTSHADER=1)
export TRAITLAB_ALLOW_SWIFTSHADER=${ALLOW_SWIFTSHADER:-0}
export BENCH_GPU_TIMES=${GPU_TIMES:-1} # one extra run per config with a GPU timestamp around every launch (GPU_TIMES=0: off)
[ -x "$CHROMIUM_PATH" ] || { echo "gpu.sh: $CHROMIUM_PATH missing after unpacking" >&2; exit 2; }
mkdir -p "$OUT_DIR"

for dtype in $DTYPES; do
  echo "== $dtype ==" >&2
  timeout 220 "$NODE" node_modules/tsx/dist/cli.mjs bench/run.ts --model "${MODEL:-.models/traitlab/bench-smollm2-360m}" --dtype "$dtype" \
    --tokens "${TOKENS:-64}" --reps "${REPS:-3}" --prompt "${PROMPT:-128}" --out "$OUT_DIR/bench-$dtype.json" >/dev/null \
    || echo "gpu.sh: the $dtype bench failed (exit $?)" >&2
done
"$NODE" node_modules/tsx/dist/cli.mjs bench/gpu-table.ts "$OUT_DIR"/bench-*.json
