// topk.wgsl — repetition penalty and top-k candidate selection over one row of logits.
//
// Computes the scores s_i of the logits x_i (i < vocab, x_i = logit rowOffset + i):
//   s_i = x_i                                   when the token was not seen (or no penalty)
//   s_i = x_i * invPenalty  if x_i > 0,  x_i * penalty  otherwise,   for seen tokens
// (two correctly rounded f32 multiplications; the CPU sampler divides in f64, so seen tokens'
// scores here are approximate — within a few ulp — and the caller certifies the result),
// then selects the `pick` largest scores (ties: smaller index first) and writes the first
// `emit` = pick - 1 of them (or all `pick` when pick = vocab) as candidates:
//   out[0]           = number of candidates written, or NONE = 0xffffffff when the row holds a
//                      NaN or ±Infinity (f16 overflow): the caller raises its non-finite error
//   out[1]           = f32 bits of the pick-th largest score (the bound every token that is not a
//                      candidate stays at or below), or -inf when every token is a candidate
//   out[2 + 2c]      = token index of candidate c
//   out[2 + 2c + 1]  = f32 bits of its raw logit x_i (before the penalty)
// Candidates come in a fixed order (those above the bound in index order, then ties in index
// order), not sorted by score: the CPU sorts them.
//
// Constants from topk-pass.ts (buildWgsl placeholders):
//   WG  : u32   invocations of the one workgroup (SAMPLE_WG = 256)
//   F16 : bool  logits are float16 (two per u32 word, read with unpack2x16float), else float32
//
// Buffers:
//   @binding(0) logits : array<u32>  // [rows, vocab] f32 bits, or f16 pairs (F16)   read only
//   @binding(1) seen   : array<u32>  // [ceil(vocab / 32)] bit i = token i was seen    read only
//   @binding(2) call   : uniform Call (32 B, below)
//   @binding(3) out    : array<u32>  // [2 + 2 * emit]                                read_write
//
// Dispatch: (1, 1, 1), one workgroup. Radix select of the pick-th largest order-preserving
// 32-bit key in four 8-bit passes (a 256-bin histogram in workgroup memory per pass, scanned by
// invocation 0), then two passes over contiguous chunks of ceil(vocab / WG) tokens per
// invocation: count keys above / equal to the threshold, exclusive scan, write.

const WG: u32 = {{WG}}u;
const F16: bool = {{F16}};

struct Call {
  vocab: u32,
  rowOffset: u32,
  pick: u32,
  emit: u32,
  usePenalty: u32,
  penalty: f32,
  invPenalty: f32,
  pad: u32,
}

@group(0) @binding(0) var<storage, read> logits: array<u32>; // [rows, vocab] (f32 or f16 pairs)
@group(0) @binding(1) var<storage, read> seen: array<u32>;   // [ceil(vocab / 32)]
@group(0) @binding(2) var<uniform> call: Call;
@group(0) @binding(3) var<storage, read_write> out: array<u32>; // [2 + 2 * emit]

var<workgroup> hist: array<atomic<u32>, 256>;
var<workgroup> aboveN: array<u32, WG>;
var<workgroup> tieN: array<u32, WG>;
var<workgroup> state: array<u32, 3>; // prefix, mask, remaining (ties still to take)
var<workgroup> nonFinite: atomic<u32>; // zero at dispatch start; set in the first radix pass

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

fn score(i: u32, x: f32) -> f32 {
  if (call.usePenalty != 0u && ((seen[i >> 5u] >> (i & 31u)) & 1u) == 1u) {
    return select(x * call.penalty, x * call.invPenalty, x > 0.0);
  }
  return x;
}

// Order-preserving key: a > b as floats <=> key(a) > key(b); -0 and +0 share a key.
fn key(f: f32) -> u32 {
  if (f == 0.0) {
    return 0x80000000u;
  }
  let b = bitcast<u32>(f);
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

fn unkey(k: u32) -> f32 {
  return bitcast<f32>(select(~k, k ^ 0x80000000u, (k & 0x80000000u) != 0u));
}

fn keyAt(i: u32) -> u32 {
  return key(score(i, logit(i)));
}

fn emitCandidate(pos: u32, i: u32) {
  if (pos < call.emit) {
    out[2u + 2u * pos] = i;
    out[3u + 2u * pos] = bitcast<u32>(logit(i));
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  let vocab = call.vocab;
  if (lid == 0u) {
    state[0] = 0u;
    state[1] = 0u;
    state[2] = call.pick;
  }
  workgroupBarrier();

  // Radix select: after four passes state[0] is the pick-th largest key.
  for (var round: u32 = 0u; round < 4u; round = round + 1u) {
    let shift = 24u - 8u * round;
    for (var b: u32 = lid; b < 256u; b = b + WG) {
      atomicStore(&hist[b], 0u);
    }
    workgroupBarrier();
    let prefix = state[0];
    let mask = state[1];
    for (var i: u32 = lid; i < vocab; i = i + WG) {
      if (round == 0u && isNonFinite(i)) {
        atomicOr(&nonFinite, 1u);
      }
      let k = keyAt(i);
      if ((k & mask) == prefix) {
        atomicAdd(&hist[(k >> shift) & 255u], 1u);
      }
    }
    workgroupBarrier();
    if (lid == 0u) {
      var remaining = state[2];
      var b: u32 = 255u;
      loop {
        let c = atomicLoad(&hist[b]);
        if (c >= remaining || b == 0u) {
          break;
        }
        remaining = remaining - c;
        b = b - 1u;
      }
      state[0] = prefix | (b << shift);
      state[1] = mask | (255u << shift);
      state[2] = remaining;
    }
    workgroupBarrier();
  }
  let threshold = state[0];
  let ties = state[2];
  let above = call.pick - ties;

  // Ordered compaction over contiguous chunks.
  let chunk = (vocab + WG - 1u) / WG;
  let lo = min(lid * chunk, vocab);
  let hi = min(lo + chunk, vocab);
  var na: u32 = 0u;
  var nt: u32 = 0u;
  for (var i: u32 = lo; i < hi; i = i + 1u) {
    let k = keyAt(i);
    if (k > threshold) {
      na = na + 1u;
    } else if (k == threshold) {
      nt = nt + 1u;
    }
  }
  aboveN[lid] = na;
  tieN[lid] = nt;
  workgroupBarrier();
  if (lid == 0u) {
    var sa: u32 = 0u;
    var st: u32 = 0u;
    for (var j: u32 = 0u; j < WG; j = j + 1u) {
      let a = aboveN[j];
      let t = tieN[j];
      aboveN[j] = sa;
      tieN[j] = st;
      sa = sa + a;
      st = st + t;
    }
    out[0] = select(min(call.emit, call.pick), NONE, atomicLoad(&nonFinite) != 0u);
    out[1] = select(bitcast<u32>(unkey(threshold)), 0xff800000u, call.pick == vocab);
  }
  workgroupBarrier();
  var pa = aboveN[lid];
  var pt = tieN[lid];
  for (var i: u32 = lo; i < hi; i = i + 1u) {
    let k = keyAt(i);
    if (k > threshold) {
      emitCandidate(pa, i);
      pa = pa + 1u;
    } else if (k == threshold) {
      if (pt < ties) {
        emitCandidate(above + pt, i);
      }
      pt = pt + 1u;
    }
  }
}
