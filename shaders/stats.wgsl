// stats.wgsl — trait-extraction statistics of the residual stream, kept on the GPU.
//
// Entry point `accumulate` (one call per prompt and layer): pools the residual rows
// [first, first + count) of one prompt at layer `layer` into their mean, then
//   sums[cls, layer, i]  += pooled[i]                     (cls 0 = high persona, 1 = low)
//   if writeDiff != 0:
//     cls 0: diffs[row, layer, i]  = pooled[i]
//     cls 1: diffs[row, layer, i] -= pooled[i]             (so after both: high − low)
// Row `row` is the contrastive pair (persona pair × question); its high prompt must be
// accumulated before its low prompt (queue order is enough).
//
// Entry point `finalize_mean` (once): meanDiff[l, i] = sums[0, l, i] / nHigh − sums[1, l, i] / nLow.
//
// Buffers (f32 / u32):
//   @binding(0) residual : array<f32>  // [rows, hidden] read only (ORT's residual.{L} output)
//   @binding(1) sums     : array<f32>  // [2, layers, hidden] read_write
//   @binding(2) diffs    : array<f32>  // [maxPairs, layers, hidden] read_write
//   @binding(3) call     : uniform AccCall { hidden, first, count, layer, layers, cls, row, writeDiff: u32 } 32 B
//   @binding(4) meanDiff : array<f32>  // [layers, hidden] read_write
//   @binding(5) fin      : uniform FinCall { hidden, layers, nHigh, nLow: u32 } 16 B
// `accumulate` uses bindings 0-3, `finalize_mean` uses 1, 4 and 5.
//
// Dispatch: one invocation per element, workgroups of WG = 64, grid (gx, gy, 1) with
// index = (wg.x + wg.y * gx) * WG + lid (2D only past maxComputeWorkgroupsPerDimension).
// `accumulate` covers hidden elements, `finalize_mean` layers * hidden. No reductions:
// every element is owned by exactly one invocation, so results do not depend on grid shape.
// The double-brace placeholders are filled by buildWgsl (src/engine/kernels/shader-source.ts).

// Injected from TS at pipeline creation (stats-pass.ts, which sizes the grid with the same WG):
const WG: u32 = {{WG}}u;

struct AccCall {
  hidden: u32,
  first: u32,
  count: u32,
  layer: u32,
  layers: u32,
  cls: u32,
  row: u32,
  writeDiff: u32,
}

struct FinCall {
  hidden: u32,
  layers: u32,
  nHigh: u32,
  nLow: u32,
}

@group(0) @binding(0) var<storage, read> residual: array<f32>;       // [rows, hidden]
@group(0) @binding(1) var<storage, read_write> sums: array<f32>;     // [2, layers, hidden]
@group(0) @binding(2) var<storage, read_write> diffs: array<f32>;    // [maxPairs, layers, hidden]
@group(0) @binding(3) var<uniform> call: AccCall;
@group(0) @binding(4) var<storage, read_write> meanDiff: array<f32>; // [layers, hidden]
@group(0) @binding(5) var<uniform> fin: FinCall;

@compute @workgroup_size(WG)
fn accumulate(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = (wg.x + wg.y * nwg.x) * WG + lid;
  if (i >= call.hidden || call.count == 0u) {
    return;
  }
  var acc: f32 = 0.0;
  for (var r: u32 = 0u; r < call.count; r = r + 1u) {
    acc = acc + residual[(call.first + r) * call.hidden + i];
  }
  let pooled = acc / f32(call.count);
  let s = (call.cls * call.layers + call.layer) * call.hidden + i;
  sums[s] = sums[s] + pooled;
  if (call.writeDiff != 0u) {
    let d = (call.row * call.layers + call.layer) * call.hidden + i;
    if (call.cls == 0u) {
      diffs[d] = pooled;
    } else {
      diffs[d] = diffs[d] - pooled;
    }
  }
}

@compute @workgroup_size(WG)
fn finalize_mean(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let n = fin.layers * fin.hidden;
  let e = (wg.x + wg.y * nwg.x) * WG + lid;
  if (e >= n) {
    return;
  }
  let hi = select(0.0, sums[e] / f32(fin.nHigh), fin.nHigh > 0u);
  let lo = select(0.0, sums[n + e] / f32(fin.nLow), fin.nLow > 0u);
  meanDiff[e] = hi - lo;
}
