// argmax.wgsl — greedy next token: the index of the largest logit in one row.
//
// Computes out[call.outIndex] = argmax_i x_i over i < call.vocab, where x_i is logit
// call.rowOffset + i; ties go to the smallest i, like the CPU argmax (it keeps the first
// maximum). A row holding any NaN or ±Infinity (f16 overflow) gives NONE = 0xffffffff instead,
// which the caller turns into its non-finite error (never a token).
//
// Constants from argmax-pass.ts (buildWgsl placeholders):
//   WG  : u32   invocations of the one workgroup (SAMPLE_WG = 256, a power of two)
//   F16 : bool  logits are float16 (two per u32 word, read with unpack2x16float), else float32
//
// Buffers:
//   @binding(0) logits : array<u32>  // [rows, vocab] f32 bits, or f16 pairs (F16)   read only
//   @binding(1) call   : uniform Call { vocab, rowOffset, outIndex, pad: u32 }          16 B
//   @binding(2) out    : array<u32>  // token ids; only out[outIndex] is written        read_write
//
// Dispatch: (1, 1, 1). Invocation l scans i = l, l + WG, l + 2 WG, ... keeping its best
// (value, index); a shared-memory tree reduction over WG pairs then picks the overall best
// (larger value, or equal value and smaller index); an invocation that meets a non-finite
// value (all exponent bits set, tested on the raw bits) sets a workgroup flag, and then
// invocation 0 writes NONE. No floating-point arithmetic is done,
// so the result is exactly the CPU argmax of the same values.

const WG: u32 = {{WG}}u;
const F16: bool = {{F16}};

struct Call {
  vocab: u32,
  rowOffset: u32,
  outIndex: u32,
  pad: u32,
}

@group(0) @binding(0) var<storage, read> logits: array<u32>; // [rows, vocab] (f32 or f16 pairs)
@group(0) @binding(1) var<uniform> call: Call;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;

var<workgroup> bestV: array<f32, WG>;
var<workgroup> bestI: array<u32, WG>;
var<workgroup> nonFinite: atomic<u32>; // zero at dispatch start (WGSL zero-initialises workgroup memory)

const NONE: u32 = 0xffffffffu;

fn logit(i: u32) -> f32 {
  let j = call.rowOffset + i;
  if (F16) {
    let pair = unpack2x16float(logits[j >> 1u]);
    return select(pair.x, pair.y, (j & 1u) == 1u);
  }
  return bitcast<f32>(logits[j]);
}

// true when logit i is NaN or ±Infinity (exponent bits all set), read from its raw bits.
fn isNonFinite(i: u32) -> bool {
  let j = call.rowOffset + i;
  if (F16) {
    let half = (logits[j >> 1u] >> (16u * (j & 1u))) & 0xffffu;
    return (half & 0x7c00u) == 0x7c00u;
  }
  return (logits[j] & 0x7f800000u) == 0x7f800000u;
}

// true when (v, i) beats (bv, bi): larger value, or equal value and smaller index.
fn beats(v: f32, i: u32, bv: f32, bi: u32) -> bool {
  if (i == NONE) {
    return false;
  }
  if (bi == NONE) {
    return true;
  }
  return v > bv || (v == bv && i < bi);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  var bv = 0.0;
  var bi = NONE;
  for (var i: u32 = lid; i < call.vocab; i = i + WG) {
    if (isNonFinite(i)) {
      atomicOr(&nonFinite, 1u);
    }
    let v = logit(i);
    if (bi == NONE || v > bv) {
      bv = v;
      bi = i;
    }
  }
  bestV[lid] = bv;
  bestI[lid] = bi;
  workgroupBarrier();
  for (var s: u32 = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      let v = bestV[lid + s];
      let i = bestI[lid + s];
      if (beats(v, i, bestV[lid], bestI[lid])) {
        bestV[lid] = v;
        bestI[lid] = i;
      }
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    out[call.outIndex] = select(bestI[0], NONE, atomicLoad(&nonFinite) != 0u);
  }
}
