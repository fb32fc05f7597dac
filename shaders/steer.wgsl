// steer.wgsl — in-place trait steering of the residual stream.
//
// Computes, for every row t in [tokenOffset, tokenOffset + tokens) of the residual h and for
// each direction k = 0 .. count-1 *in order* (later directions see the result of earlier ones):
//   mode 0 (none)   : nothing
//   mode 1 (add)    : h += alpha_k * v_k                  (skipped entirely when alpha_k == 0,
//                                                          so alpha 0 is bit-for-bit a no-op)
//   mode 2 (clamp)  : h += (target_k - dot(h, u_k)) * u_k  (sets the projection on u_k to target_k)
//   mode 3 (ablate) : h -= dot(h, u_k) * u_k              (removes the component along u_k)
// where v_k is the raw direction and u_k = v_k / |v_k| its unit direction (computed on the CPU).
//
// Buffers (all f32 / u32, little endian):
//   @binding(0) residual : array<f32>  // [rows, hidden]   read_write, rows >= tokenOffset + tokens
//   @binding(1) vectors  : array<f32>  // [K_MAX, hidden]  raw directions v_k
//   @binding(2) units    : array<f32>  // [K_MAX, hidden]  unit directions u_k
//   @binding(3) dirs     : uniform DirMeta    { hidden: u32, count: u32, pad, pad }      16 B
//   @binding(4) params   : uniform SteerParams{ p: array<Param, K_MAX> }                  256 B
//                          Param = { mode: u32, alpha: f32, targetProj: f32, pad: u32 }      16 B
//   @binding(5) call     : uniform Call       { tokens: u32, tokenOffset: u32, pad, pad } 16 B
//
// Dispatch: one workgroup (256 invocations) per token row. Grid (gx, gy, 1) with
// row = wg.x + wg.y * gx; gx = min(tokens, maxComputeWorkgroupsPerDimension), gy = ceil(tokens / gx);
// surplus workgroups of the last grid row exit early. Each invocation keeps the elements
// i = lid + j * 256 (j < 32) of its row in registers, so hidden <= 256 * 32 = 8192.
// Dot products use a shared-memory tree reduction over the 256 invocations.

const WG: u32 = 256u;
const K_MAX: u32 = 16u;
const PER_THREAD: u32 = 32u; // 8192 / WG

struct DirMeta {
  hidden: u32,
  count: u32,
  pad0: u32,
  pad1: u32,
}

struct Param {
  mode: u32,
  alpha: f32,
  targetProj: f32, // `target` is a reserved word in WGSL
  pad: u32,
}

struct SteerParams {
  p: array<Param, K_MAX>,
}

struct Call {
  tokens: u32,
  tokenOffset: u32,
  pad0: u32,
  pad1: u32,
}

@group(0) @binding(0) var<storage, read_write> residual: array<f32>; // [rows, hidden]
@group(0) @binding(1) var<storage, read> vectors: array<f32>;        // [K_MAX, hidden]
@group(0) @binding(2) var<storage, read> units: array<f32>;          // [K_MAX, hidden]
@group(0) @binding(3) var<uniform> dirs: DirMeta;
@group(0) @binding(4) var<uniform> params: SteerParams;
@group(0) @binding(5) var<uniform> call: Call;

var<workgroup> red: array<f32, WG>; // [WG] partial sums

// Sum of `v` over the workgroup. Must be called from workgroup-uniform control flow.
fn workgroupSum(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s: u32 = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      red[lid] = red[lid] + red[lid + s];
    }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier(); // red is reused by the next call
  return total;
}

@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let row = wg.x + wg.y * nwg.x;
  if (row >= call.tokens) {
    return;
  }
  let hidden = dirs.hidden;
  let base = (call.tokenOffset + row) * hidden;

  var h: array<f32, PER_THREAD>; // this invocation's slice of the row
  for (var j: u32 = 0u; j < PER_THREAD; j = j + 1u) {
    let i = lid + j * WG;
    if (i < hidden) {
      h[j] = residual[base + i];
    } else {
      h[j] = 0.0;
    }
  }

  for (var k: u32 = 0u; k < dirs.count; k = k + 1u) {
    let p = params.p[k];
    let vb = k * hidden;
    if (p.mode == 1u) {
      if (p.alpha != 0.0) {
        for (var j: u32 = 0u; j < PER_THREAD; j = j + 1u) {
          let i = lid + j * WG;
          if (i < hidden) {
            h[j] = h[j] + p.alpha * vectors[vb + i];
          }
        }
      }
    } else if (p.mode == 2u || p.mode == 3u) {
      var part: f32 = 0.0;
      for (var j: u32 = 0u; j < PER_THREAD; j = j + 1u) {
        let i = lid + j * WG;
        if (i < hidden) {
          part = part + h[j] * units[vb + i];
        }
      }
      let d = workgroupSum(lid, part);
      var c: f32 = -d; // ablate
      if (p.mode == 2u) {
        c = p.targetProj - d; // clamp
      }
      for (var j: u32 = 0u; j < PER_THREAD; j = j + 1u) {
        let i = lid + j * WG;
        if (i < hidden) {
          h[j] = h[j] + c * units[vb + i];
        }
      }
    }
  }

  for (var j: u32 = 0u; j < PER_THREAD; j = j + 1u) {
    let i = lid + j * WG;
    if (i < hidden) {
      residual[base + i] = h[j];
    }
  }
}
