// norm.wgsl — per-token L2 norm of the residual stream.
//
// Computes n[t] = sqrt(sum_i h[tokenOffset + t, i]^2) for t < tokens and writes it to
// out[outOffset + t]. Used to measure a layer's typical residual norm (mean of n over the
// tokens of a few prompts), which defines steering strength 1.0.
//
// Buffers (f32 / u32):
//   @binding(0) residual : array<f32>  // [rows, hidden] read only
//   @binding(1) call     : uniform Call { tokens, tokenOffset, hidden, outOffset: u32 } 16 B
//   @binding(2) out      : array<f32>  // [maxTokens] read_write
//
// Dispatch: one workgroup (WG = 256 invocations) per token row, grid (gx, gy, 1) with
// row = wg.x + wg.y * gx (see steer.wgsl). Strided sum of squares per invocation, then the
// shared-memory tree reduction of shaders/reduce.wgsl; invocation 0 writes the square root.
// No hidden limit (nothing is kept in registers). The double-brace placeholders are filled
// by buildWgsl (src/engine/kernels/shader-source.ts).

// Injected from TS at pipeline creation (norm-pass.ts):
const WG: u32 = {{WG}}u;

struct Call {
  tokens: u32,
  tokenOffset: u32,
  hidden: u32,
  outOffset: u32,
}

@group(0) @binding(0) var<storage, read> residual: array<f32>; // [rows, hidden]
@group(0) @binding(1) var<uniform> call: Call;
@group(0) @binding(2) var<storage, read_write> out: array<f32>; // [maxTokens]

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
  let base = (call.tokenOffset + row) * call.hidden;
  var acc: f32 = 0.0;
  for (var i: u32 = lid; i < call.hidden; i = i + WG) {
    let x = residual[base + i];
    acc = acc + x * x;
  }
  let total = workgroupSum(lid, acc);
  if (lid == 0u) {
    out[call.outOffset + row] = sqrt(total);
  }
}
