// pca.wgsl — first principal component of the paired differences, per layer, by power
// iteration on the GPU (the differences never leave it).
//
// For layer l let D be the [pairs, hidden] matrix of paired differences diffs[p, l, :] and
// mu = meanDiff[l, :] (the mean of its rows). With c = center (0 or 1), X = D − c·1·muᵀ:
//
// Entry point `pca_init`: the deterministic start vector
//   v0 = mu                                   (center = 0 and |mu| > 0)
//   v0[i] = 1 + ((i * 7919) mod 13) / 13      (center = 1, or mu = 0: a generic vector)
// written to vOut (not normalized: every step normalizes).
//
// Entry point `pca_step`: one power-iteration step  vOut = Xᵀ(X vIn) / |Xᵀ(X vIn)|
// (vOut = vIn when that product is zero). The host ping-pongs two buffers for a fixed
// number of steps. The sign is fixed on the CPU afterwards (toward high − low).
//
// Buffers (f32 / u32):
//   @binding(0) diffs    : array<f32>  // [maxPairs, layers, hidden] read only
//   @binding(1) meanDiff : array<f32>  // [layers, hidden] read only
//   @binding(2) vIn      : array<f32>  // [layers, hidden] read only
//   @binding(3) vOut     : array<f32>  // [layers, hidden] read_write
//   @binding(4) call     : uniform Call { hidden, layers, pairs, center: u32 } 16 B
// `pca_init` uses bindings 1, 3, 4; `pca_step` uses all five.
//
// Dispatch: one workgroup of WG invocations per layer, grid (layers, 1, 1); WG and PER_THREAD
// follow the row (pca-pass.ts pcaSource: steerShape, WG a power of two of 32..256,
// PER_THREAD = ceil(hidden / WG) <= 32, so hidden <= HIDDEN_MAX = 8192). Invocation
// lid owns elements i = lid + j * WG (j < PER_THREAD) and
// keeps its part of the product in registers. For each pair p, the projection X[p]·vIn is the
// shared-memory tree reduction of shaders/reduce.wgsl; every invocation then adds that scalar
// times its elements of X[p]. The norm is one more tree reduction. The double-brace
// placeholders are filled by buildWgsl (src/engine/kernels/shader-source.ts).

// Injected from TS at pipeline creation (pca-pass.ts, steer-params.ts):
const WG: u32 = {{WG}}u;
const PER_THREAD: u32 = {{PER_THREAD}}u; // ceil(hidden / WG)

struct Call {
  hidden: u32,
  layers: u32,
  pairs: u32,
  center: u32,
}

@group(0) @binding(0) var<storage, read> diffs: array<f32>;        // [maxPairs, layers, hidden]
@group(0) @binding(1) var<storage, read> meanDiff: array<f32>;     // [layers, hidden]
@group(0) @binding(2) var<storage, read> vIn: array<f32>;          // [layers, hidden]
@group(0) @binding(3) var<storage, read_write> vOut: array<f32>;   // [layers, hidden]
@group(0) @binding(4) var<uniform> call: Call;

// workgroupSum(lid, v) and its scratch `red` [WG] (shaders/reduce.wgsl):
{{REDUCE}}

@compute @workgroup_size(WG)
fn pca_init(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let l = wg.x;
  if (l >= call.layers) {
    return;
  }
  let base = l * call.hidden;
  var ss: f32 = 0.0;
  for (var i: u32 = lid; i < call.hidden; i = i + WG) {
    let m = meanDiff[base + i];
    ss = ss + m * m;
  }
  let mm = workgroupSum(lid, ss); // |mu|^2
  let generic = call.center != 0u || mm == 0.0;
  for (var i: u32 = lid; i < call.hidden; i = i + WG) {
    if (generic) {
      vOut[base + i] = 1.0 + f32((i * 7919u) % 13u) / 13.0;
    } else {
      vOut[base + i] = meanDiff[base + i];
    }
  }
}

@compute @workgroup_size(WG)
fn pca_step(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let l = wg.x;
  if (l >= call.layers) {
    return;
  }
  let hidden = call.hidden;
  let base = l * hidden;
  let c = f32(call.center);
  var w: array<f32, PER_THREAD>;
  for (var j: u32 = 0u; j < PER_THREAD; j = j + 1u) {
    w[j] = 0.0;
  }
  for (var p: u32 = 0u; p < call.pairs; p = p + 1u) {
    let row = (p * call.layers + l) * hidden;
    var part: f32 = 0.0;
    for (var j: u32 = 0u; j < PER_THREAD; j = j + 1u) {
      let i = lid + j * WG;
      if (i < hidden) {
        part = part + (diffs[row + i] - c * meanDiff[base + i]) * vIn[base + i];
      }
    }
    let proj = workgroupSum(lid, part);
    for (var j: u32 = 0u; j < PER_THREAD; j = j + 1u) {
      let i = lid + j * WG;
      if (i < hidden) {
        w[j] = w[j] + proj * (diffs[row + i] - c * meanDiff[base + i]);
      }
    }
  }
  var ss: f32 = 0.0;
  for (var j: u32 = 0u; j < PER_THREAD; j = j + 1u) {
    ss = ss + w[j] * w[j];
  }
  let norm = sqrt(workgroupSum(lid, ss));
  for (var j: u32 = 0u; j < PER_THREAD; j = j + 1u) {
    let i = lid + j * WG;
    if (i < hidden) {
      if (norm > 0.0) {
        vOut[base + i] = w[j] / norm;
      } else {
        vOut[base + i] = vIn[base + i];
      }
    }
  }
}
