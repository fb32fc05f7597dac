import { describe, expect, it } from 'vitest';
import { ALLOWED, check, importsOf } from '../../../scripts/check-layers';

describe('layering check', () => {
  it('the source tree has no upward import, no value-import cycle and no oversized file', () => {
    expect(check()).toEqual([]);
  });

  it('reads value, type-only and re-export imports', () => {
    const file = '/repo/src/ui/a.ts';
    const edges = importsOf(
      file,
      [
        "import { x } from '../engine/engine';",
        "import type { Y } from '../protocol/messages';",
        "import { type A, type B } from '../steering/plan';",
        "export { z } from './b';",
        "import raw from '../../shaders/steer.wgsl?raw';",
        "import { q } from 'zustand';",
      ].join('\n'),
    );
    expect(edges.map((e) => [e.to, e.typeOnly, e.line])).toEqual([
      ['/repo/src/engine/engine', false, 1],
      ['/repo/src/protocol/messages', true, 2],
      ['/repo/src/steering/plan', true, 3],
      ['/repo/src/ui/b', false, 4],
      ['/repo/shaders/steer.wgsl', false, 5],
    ]);
  });

  it('allows only downward imports: the UI never reaches the engine or the worker', () => {
    expect(ALLOWED.ui).not.toContain('engine');
    expect(ALLOWED.ui).not.toContain('worker');
    expect(ALLOWED.engine).not.toContain('worker');
    expect(ALLOWED.shared).toEqual([]);
    // Every allowed edge points to a folder that itself may not import back.
    for (const [from, tos] of Object.entries(ALLOWED)) for (const to of tos) expect(ALLOWED[to] ?? [], `${to} → ${from}`).not.toContain(from);
  });
});
