import { describe, expect, it } from 'vitest';
import { FrameBuffer } from '../../../../src/ui/actions/frame-buffer';

describe('FrameBuffer', () => {
  it('flushes all tokens of a frame in one batch: one store update per frame, not per token', () => {
    const frames: (() => void)[] = [];
    const batches: number[][] = [];
    const buf = new FrameBuffer<number>(
      (b) => batches.push(b),
      1024,
      (fn) => frames.push(fn),
    );
    for (let i = 0; i < 10; i++) buf.push(i);
    expect(frames).toHaveLength(1); // one frame scheduled for ten tokens
    frames.shift()!();
    buf.push(10);
    frames.shift()!();
    expect(batches).toEqual([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [10]]);
  });
  it('is bounded: when frames stall, the oldest items are dropped', () => {
    const batches: number[][] = [];
    const frames: (() => void)[] = [];
    const buf = new FrameBuffer<number>(
      (b) => batches.push(b),
      4,
      (fn) => frames.push(fn),
    );
    for (let i = 0; i < 10; i++) buf.push(i);
    frames[0]();
    expect(batches).toEqual([[6, 7, 8, 9]]);
  });
});
