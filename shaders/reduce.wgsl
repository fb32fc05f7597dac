// reduce.wgsl — shared workgroup tree sum, inserted by TS (buildWgsl, placeholder REDUCE) into the
// kernels that reduce one float per invocation: steer.wgsl, norm.wgsl, pca.wgsl.
//
// Needs `const WG: u32` (the workgroup size, a power of two) in the including kernel and
// declares the scratch `red`. workgroupSum(lid, v) returns the sum of `v` over the workgroup
// to every invocation: red[lid] = v, then log2(WG) halving steps red[i] += red[i + s] with a
// barrier after each, then everyone reads red[0] and a last barrier lets the next call reuse
// `red`. Must be called from workgroup-uniform control flow. The summation order is fixed
// (tree by lid), so a kernel's result does not depend on scheduling.

var<workgroup> red: array<f32, WG>; // [WG] partial sums

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
