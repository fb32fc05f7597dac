/**
 * Replace `proto[name]` by a wrapper, for the bench's page instrumentation (gpu-counters.ts,
 * gpu-timestamps.ts): `around(self, args, call)` runs instead of the method, and `call()` runs
 * the original on `self` with `args` (which `around` may edit first).
 */
export function wrapMethod<T extends object>(proto: T, name: string, around: (self: T, args: unknown[], call: () => unknown) => unknown): void {
  const original = (proto as Record<string, unknown>)[name];
  if (typeof original !== 'function') throw new Error(`cannot wrap ${name}: not a method`);
  Object.defineProperty(proto, name, {
    configurable: true,
    writable: true,
    value: function (this: T, ...args: unknown[]) {
      return around(this, args, () => (original as (...a: unknown[]) => unknown).apply(this, args));
    },
  });
}
