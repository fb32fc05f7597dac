// option-logits.wgsl — what an option pass (issue 9) reads back: the softmax normaliser of one
// logits row over the whole vocabulary and the logits of the K answer options, so the CPU forms
//   p_k = exp(x[id_k] - lse),  lse = log(sum_i exp(x_i))
// from a few floats instead of the vocabulary row.
//
// Computes, for the row starting at element call.rowOffset with call.vocab values x_i:
//   out[0]     = m   = max_i x_i
//   out[1]     = lse = m + log(sum_i exp(x_i - m))
//   out[2 + k] = x[id_k]                          for k < call.k (K_OPT at most)
// Slots past 2 + call.k are left as they are. All arithmetic is f32: each invocation keeps a
// Kahan-compensated sum of its strided share (x_i <= m, so every term is in (0, 1]), the
// workgroup adds the partial sums as a fixed tree (shaders/reduce.wgsl), so the result does not
// depend on scheduling.
//
// Constants from option-logits-pass.ts (buildWgsl placeholders):
//   WG     : u32   invocations of the one workgroup (SAMPLE_WG = 256, a power of two)
//   F16    : bool  logits are float16 (two per u32 word, read with unpack2x16float), else float32
//   K_OPT  : u32   most options per call (OPTION_K_MAX = 16, a multiple of 4, <= WG)
//   REDUCE : text  shaders/reduce.wgsl (workgroupSum)
//
// Buffers:
//   @binding(0) logits : array<u32>  // [rows, vocab] f32 bits, or f16 pairs (F16)       read only
//   @binding(1) call   : uniform Call { vocab, rowOffset, k, pad: u32, ids: [K_OPT] u32 } 16 + 4 K_OPT B
//   @binding(2) out    : array<f32>  // [2 + K_OPT] m, lse, option logits               read_write
//
// Dispatch: (1, 1, 1). Invocation l reads i = l, l + WG, ... twice (max, then the sum), the
// workgroup reduces max by a shared-memory tree and the sum with workgroupSum; invocation 0
// writes m and lse, invocation k < call.k writes option k's logit. A NaN logit gives NaN.

const WG: u32 = {{WG}}u;
const F16: bool = {{F16}};
const K_OPT: u32 = {{K_OPT}}u;
const K_VEC: u32 = K_OPT / 4u;
const LOWEST: f32 = -3.4028234663852886e38;

struct Call {
  vocab: u32,
  rowOffset: u32,
  k: u32,
  pad: u32,
  ids: array<vec4<u32>, K_VEC>, // option token ids, four per vec4 (uniform array stride 16)
}

@group(0) @binding(0) var<storage, read> logits: array<u32>; // [rows, vocab] (f32 or f16 pairs)
@group(0) @binding(1) var<uniform> call: Call;
@group(0) @binding(2) var<storage, read_write> out: array<f32>; // [2 + K_OPT]

var<workgroup> peak: array<f32, WG>; // [WG] partial maxima

{{REDUCE}}

fn logit(i: u32) -> f32 {
  let j = call.rowOffset + i;
  if (F16) {
    let pair = unpack2x16float(logits[j >> 1u]);
    return select(pair.x, pair.y, (j & 1u) == 1u);
  }
  return bitcast<f32>(logits[j]);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  var m = LOWEST;
  for (var i: u32 = lid; i < call.vocab; i = i + WG) {
    m = max(m, logit(i));
  }
  peak[lid] = m;
  workgroupBarrier();
  for (var s: u32 = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      peak[lid] = max(peak[lid], peak[lid + s]);
    }
    workgroupBarrier();
  }
  let rowMax = peak[0];

  var sum = 0.0;
  var comp = 0.0; // Kahan compensation: what the last additions lost
  for (var i: u32 = lid; i < call.vocab; i = i + WG) {
    let y = exp(logit(i) - rowMax) - comp;
    let t = sum + y;
    comp = (t - sum) - y;
    sum = t;
  }
  let total = workgroupSum(lid, sum);

  if (lid == 0u) {
    out[0] = rowMax;
    out[1] = rowMax + log(total);
  }
  if (lid < min(call.k, K_OPT)) {
    let id = call.ids[lid / 4u][lid % 4u];
    out[2u + lid] = select(0.0, logit(id), id < call.vocab);
  }
}
