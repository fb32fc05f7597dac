// readout.wgsl — trait projections of the residual stream.
//
// Computes p[t, k] = dot(h[tokenOffset + t], u_k) for t < tokens and k < min(count, outStride),
// and writes it to out[(outOffsetRows + t) * outStride + k]. u_k are unit directions.
//
// Buffers (f32 / u32):
//   @binding(0) residual : array<f32>  // [rows, hidden]  read only
//   @binding(1) units    : array<f32>  // [K_MAX, hidden] unit directions u_k
//   @binding(2) dirs     : uniform DirMeta { hidden: u32, count: u32, pad, pad }        16 B
//   @binding(3) call     : uniform Call    { tokens, tokenOffset, outOffsetRows, outStride: u32 } 16 B
//   @binding(4) out      : array<f32>  // [maxTokens, outStride] read_write
//
// Dispatch: one workgroup (WG = 64 invocations) per token row, grid (gx, gy, 1) with
// row = wg.x + wg.y * gx (see steer.wgsl). Each invocation accumulates K_MAX partial dot
// products over the strided elements i = lid + j * WG; one shared-memory tree reduction
// ([K_MAX, WG] floats = 4 KiB) then sums all K at once; invocation k < K writes p[t, k].
// K_MAX <= WG is required (checked in readout-pass.ts). The double-brace placeholders are
// filled by buildWgsl (src/engine/kernels/shader-source.ts).

// Injected from TS at pipeline creation (readout-pass.ts, src/steering/mode.ts):
const WG: u32 = {{WG}}u;
const K_MAX: u32 = {{K_MAX}}u;

struct DirMeta {
  hidden: u32,
  count: u32,
  pad0: u32,
  pad1: u32,
}

struct Call {
  tokens: u32,
  tokenOffset: u32,
  outOffsetRows: u32,
  outStride: u32,
}

@group(0) @binding(0) var<storage, read> residual: array<f32>; // [rows, hidden]
@group(0) @binding(1) var<storage, read> units: array<f32>;    // [K_MAX, hidden]
@group(0) @binding(2) var<uniform> dirs: DirMeta;
@group(0) @binding(3) var<uniform> call: Call;
@group(0) @binding(4) var<storage, read_write> out: array<f32>; // [maxTokens, outStride]

// K_MAX partial sums reduced side by side (shaders/reduce.wgsl sums a single float per
// invocation; here one tree serves all directions at once).
var<workgroup> red: array<f32, K_MAX * WG>; // [K_MAX, WG] partial sums

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
  let count = min(min(dirs.count, K_MAX), call.outStride);
  let base = (call.tokenOffset + row) * hidden;

  var part: array<f32, K_MAX>;
  for (var k: u32 = 0u; k < K_MAX; k = k + 1u) {
    part[k] = 0.0;
  }
  for (var i: u32 = lid; i < hidden; i = i + WG) {
    let x = residual[base + i];
    for (var k: u32 = 0u; k < count; k = k + 1u) {
      part[k] = part[k] + x * units[k * hidden + i];
    }
  }
  for (var k: u32 = 0u; k < K_MAX; k = k + 1u) {
    red[k * WG + lid] = part[k];
  }
  workgroupBarrier();
  for (var s: u32 = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      for (var k: u32 = 0u; k < count; k = k + 1u) {
        red[k * WG + lid] = red[k * WG + lid] + red[k * WG + lid + s];
      }
    }
    workgroupBarrier();
  }
  if (lid < count) {
    out[(call.outOffsetRows + row) * call.outStride + lid] = red[lid * WG];
  }
}
