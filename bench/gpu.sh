#!/usr/bin/env bash
# bench/gpu.sh — the traitlab bench on a real GPU (Linux + NVIDIA driver), carried in parts.
#
#   bench/gpu.sh pack    # on the dev machine (Debian 12, apt, node_modules): builds the bench page
#                        # and bundles the bench (bench/pack.ts), adds this machine's node binary
#                        # and Debian's chromium with the libraries it links and the Vulkan/EGL
#                        # loaders (unpacked from .deb files, docs and locales dropped), and splits
#                        # the xz tarball into parts of PART_SIZE (default 48M):
#                        # bench/.gpu-xfer/NN/{chunk,MANIFEST} (gitignored).
#   bench/gpu.sh split F # only the splitting, of file F (tests/unit/bench/gpu-parts.test.ts)
#   bench/gpu.sh         # on the GPU machine, in a checkout of this repo (no node_modules, no
#                        # network needed): takes the parts it finds in bench/.gpu-xfer/; while
#                        # some are missing it says which and exits 3 (carry the next part and
#                        # run it again: parts from earlier calls stay where they landed); with
#                        # all of them it checks their sha256, unpacks under $GPU_ROOT (never into
#                        # /), starts Chromium on the real GPU (Vulkan, not SwiftShader), generates
#                        # SmolLM2-360M-shaped random q4 and q4f16 models, runs the bench on each
#                        # dtype and prints one table (prefill/decode tok/s of a, b, c; ratios;
#                        # per-token counts; GPU ms per program; adapter).
#
# Why parts: the device tool carries at most 64 MiB per call (README: "On a real GPU").
# Environment: MODEL (default .models/traitlab/bench-smollm2-360m), GPU_ROOT (default
# /tmp/traitlab-gpu), OUT_DIR (default $OUT when set, else bench/.gpu-out), DTYPES (default
# "q4 q4f16"; q4f16 needs shader-f16 on the GPU), TOKENS (64), REPS (3), PROMPT (128), GPU_TIMES
# (1: one extra run per config with GPU timestamps), ALLOW_SWIFTSHADER=1 lets the run go on when
# Chromium finds no GPU (to check the script on a machine without one), GPU_UNPACK_ONLY=1 stops
# after unpacking.
set -euo pipefail
cd "$(dirname "$0")/.."
XFER=bench/.gpu-xfer
PACK=bench/.gpu-pack

# Debian's chromium (it bundles ANGLE and a Vulkan loader) and the packages of every library its
# binary links, less the C/C++ runtime the target brings (mixing Debian's glibc into another
# distribution breaks it), plus the EGL/GL loaders. Read from this machine's chromium install.
LOADERS="libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2"
SKIP='^(libc6|libgcc-s1|libstdc\+\+6)$'

pack() {
  [ -x /usr/lib/chromium/chromium ] || { echo "gpu.sh pack: needs Debian's chromium installed here (apt-get install -y chromium)" >&2; exit 2; }
  [ -d node_modules ] || { echo "gpu.sh pack: needs node_modules (npm ci)" >&2; exit 2; }
  local payload=$PACK/payload debs=$PACK/debs libs
  node_modules/.bin/tsx bench/pack.ts "$payload"
  cp "$(command -v node)" "$payload/node"
  mkdir -p "$debs"
  if ! ls "$debs"/chromium_*.deb >/dev/null 2>&1; then
    libs=$(ldd /usr/lib/chromium/chromium | awk '/=>/ {print $3}' | while read -r f; do
      dpkg -S "$(readlink -f "$f")" 2>/dev/null || dpkg -S "$f" 2>/dev/null || dpkg -S "/usr$f" 2>/dev/null || true
    done | cut -d: -f1 | cut -d, -f1 | sort -u | grep -Ev "$SKIP")
    (cd "$debs" && apt-get download chromium chromium-common $LOADERS $libs)
  fi
  for f in "$debs"/*.deb; do dpkg-deb -x "$f" "$payload/root"; done
  # What a headless bench never reads: docs, man pages, translations, the Vulkan validation layer.
  rm -rf "$payload"/root/usr/share/{doc,man,info,locale,lintian,bug,menu,applications,icons}
  rm -f "$payload"/root/usr/lib/chromium/libVkLayer_khronos_validation.so*
  find "$payload/root/usr/lib/chromium/locales" -type f ! -name 'en-US*' -delete
  tar -C "$payload" -cf - . | xz -T0 -6 >"$PACK/payload.tar.xz"
  split_parts "$PACK/payload.tar.xz"
  du -sh "$PACK/payload" "$PACK/payload.tar.xz"
}

# FILE → $XFER/NN/{chunk,MANIFEST}: parts of PART_SIZE (split's size syntax, default 48M) and
# their sha256s; line 1 of MANIFEST: "traitlab-gpu-pack <parts> <commit>".
split_parts() {
  local file=$1 tmp n=0 p k
  rm -rf "$XFER" && mkdir -p "$XFER"
  tmp=$(mktemp -d)
  split -b "${PART_SIZE:-48M}" -d -a 2 "$file" "$tmp/part-"
  for p in "$tmp"/part-*; do n=$((n + 1)); done
  {
    echo "traitlab-gpu-pack $n $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    (cd "$tmp" && sha256sum part-*)
  } >"$tmp/MANIFEST"
  for p in "$tmp"/part-*; do
    k=${p##*-}
    mkdir -p "$XFER/$k" && mv "$p" "$XFER/$k/chunk" && cp "$tmp/MANIFEST" "$XFER/$k/MANIFEST"
  done
  rm -rf "$tmp"
  ls -la "$XFER"/*/chunk
  echo "gpu.sh: $n parts in $XFER/ (carry one per device call: $XFER/00, then $XFER/01, ...; the same command each time: bench/gpu.sh)"
}

# Unpack the parts found in $XFER into $GPU_ROOT, once per pack ($GPU_ROOT/.ready holds the
# sha256 of the MANIFEST it was unpacked from); exit 3 while parts are missing.
assemble() {
  local manifest stamp
  manifest=$(ls "$XFER"/*/MANIFEST 2>/dev/null | head -1 || true)
  [ -n "$manifest" ] || { echo "gpu.sh: no parts in $XFER/ (run 'bench/gpu.sh pack' on the dev machine, then carry $XFER/00)" >&2; exit 2; }
  stamp=$(sha256sum <"$manifest" | cut -d' ' -f1)
  [ "$(cat "$GPU_ROOT/.ready" 2>/dev/null)" = "$stamp" ] && return 0
  local n have=() missing=() k
  n=$(awk 'NR == 1 {print $2}' "$manifest")
  for ((i = 0; i < n; i++)); do
    k=$(printf '%02d' "$i")
    if [ -f "$XFER/$k/chunk" ]; then have+=("$k"); else missing+=("$k"); fi
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "gpu.sh: have parts [${have[*]}] of $n; carry $XFER/${missing[0]} next and run bench/gpu.sh again" >&2
    exit 3
  fi
  (cd "$XFER" && awk 'NR > 1 {split($2, a, "-"); print $1 "  " a[2] "/chunk"}' "$OLDPWD/$manifest" | sha256sum -c --quiet) \
    || { echo "gpu.sh: a part does not match its sha256 in MANIFEST: carry that part again" >&2; exit 2; }
  rm -rf "$GPU_ROOT" && mkdir -p "$GPU_ROOT"
  local unxz=(xz -dc)
  command -v xz >/dev/null || unxz=(python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.stdin.buffer), sys.stdout.buffer)')
  for ((i = 0; i < n; i++)); do cat "$XFER/$(printf '%02d' "$i")/chunk"; done | "${unxz[@]}" | tar -x -C "$GPU_ROOT"
  echo "$stamp" >"$GPU_ROOT/.ready"
  echo "gpu.sh: unpacked $n parts ($(head -1 "$manifest" | cut -d' ' -f3)) under $GPU_ROOT" >&2
}

case "${1:-}" in
  pack) pack; exit 0 ;;
  split) split_parts "$2"; exit 0 ;;
esac

GPU_ROOT=${GPU_ROOT:-/tmp/traitlab-gpu}
OUT_DIR=${OUT_DIR:-${OUT:-bench/.gpu-out}}
DTYPES=${DTYPES:-"q4 q4f16"}
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "gpu.sh: nvidia-smi not found"
assemble
[ "${GPU_UNPACK_ONLY:-0}" = 1 ] && exit 0
ROOT=$GPU_ROOT/root
NODE=$GPU_ROOT/node

# Our libraries first for chromium's own needs; the machine's NVIDIA driver libraries stay visible.
LIBS="$ROOT/usr/lib/x86_64-linux-gnu:$ROOT/lib/x86_64-linux-gnu:$ROOT/usr/lib/chromium"
export LD_LIBRARY_PATH="$LIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# The driver's own libraries (the Vulkan ICD, libEGL_nvidia) where a container mounts them outside ldconfig's cache.
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do [ -d "$d" ] && LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$d"; done
for icd in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json; do
  if [ -f "$icd" ]; then export VK_DRIVER_FILES="$icd" VK_ICD_FILENAMES="$icd"; break; fi
done
for egl in /usr/share/glvnd/egl_vendor.d/10_nvidia.json /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json; do
  if [ -f "$egl" ]; then export __EGL_VENDOR_LIBRARY_FILENAMES="$egl"; break; fi
done
export CHROMIUM_PATH="$ROOT/usr/lib/chromium/chromium"
export TRAITLAB_REAL_GPU=1 # bench/run.ts: GPU flags, and fail on a SwiftShader adapter (unless ALLOW_SWIFTSHADER=1)
export TRAITLAB_ALLOW_SWIFTSHADER=${ALLOW_SWIFTSHADER:-0}
export BENCH_GPU_TIMES=${GPU_TIMES:-1} # one extra run per config with a GPU timestamp around every launch (GPU_TIMES=0: off)
[ -x "$CHROMIUM_PATH" ] || { echo "gpu.sh: $CHROMIUM_PATH missing after unpacking" >&2; exit 2; }
mkdir -p "$OUT_DIR"
exec 2> >(tee -a "$OUT_DIR/log.txt" >&2) # the whole log comes back with the results (the tool's output keeps only its tail)

for dtype in $DTYPES; do
  echo "== $dtype ==" >&2
  timeout 220 "$NODE" "$GPU_ROOT/run.mjs" --site "$GPU_ROOT/site" --model "${MODEL:-.models/traitlab/bench-smollm2-360m}" --dtype "$dtype" \
    --tokens "${TOKENS:-64}" --reps "${REPS:-3}" --prompt "${PROMPT:-128}" --out "$OUT_DIR/bench-$dtype.json" >/dev/null \
    || echo "gpu.sh: the $dtype bench failed (exit $?)" >&2
done
"$NODE" "$GPU_ROOT/gpu-table.mjs" "$OUT_DIR"/bench-*.json | tee "$OUT_DIR/table.txt"
