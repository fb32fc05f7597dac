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
// The mode codes are MODE_CODE of src/steering/mode.ts, injected below with K_MAX.
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
// Dispatch: one workgroup (WG invocations) per token row. Grid (gx, gy, 1) with
// row = wg.x + wg.y * gx; gx = min(tokens, maxComputeWorkgroupsPerDimension), gy = ceil(tokens / gx);
// surplus workgroups of the last grid row exit early. Each invocation keeps the elements
// i = lid + j * WG (j < PER_THREAD) of its row in registers. WG and PER_THREAD are sized to the
// model's hidden size at pipeline creation (steerShape in steer-params.ts: WG a power of two in
// 32..256, PER_THREAD = ceil(hidden / WG) <= 32, so hidden <= HIDDEN_MAX = 8192).
// Dot products use the shared-memory tree reduction of shaders/reduce.wgsl over the WG invocations.
// The double-brace placeholders are filled by buildWgsl (src/engine/kernels/shader-source.ts).

// Injected from TS at pipeline creation (steer-pass.ts, src/steering/mode.ts, steer-params.ts):
const WG: u32 = {{WG}}u;
const K_MAX: u32 = {{K_MAX}}u;
const PER_THREAD: u32 = {{PER_THREAD}}u; // ceil(hidden / WG)
const MODE_ADD: u32 = {{MODE_ADD}}u;
const MODE_CLAMP: u32 = {{MODE_CLAMP}}u;
const MODE_ABLATE: u32 = {{MODE_ABLATE}}u;

struct DirMeta {
  hidden: u32,
  count: u32,
  pad0: u32,
  pad1: u32,
}

struct Param { // PARAM_FIELDS: mode u32, alpha f32, targetProj f32 (`target` is reserved), pad u32
{{PARAM_FIELDS}}
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

// workgroupSum(lid, v) and its scratch `red` [WG] (shaders/reduce.wgsl):
{{REDUCE}}

@compute @workgroup_size(WG)
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
    if (p.mode == MODE_ADD) {
      if (p.alpha != 0.0) {
        for (var j: u32 = 0u; j < PER_THREAD; j = j + 1u) {
          let i = lid + j * WG;
          if (i < hidden) {
            h[j] = h[j] + p.alpha * vectors[vb + i];
          }
        }
      }
    } else if (p.mode == MODE_CLAMP || p.mode == MODE_ABLATE) {
      var part: f32 = 0.0;
      for (var j: u32 = 0u; j < PER_THREAD; j = j + 1u) {
        let i = lid + j * WG;
        if (i < hidden) {
          part = part + h[j] * units[vb + i];
        }
      }
      let d = workgroupSum(lid, part);
      var c: f32 = -d; // ablate
      if (p.mode == MODE_CLAMP) {
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
