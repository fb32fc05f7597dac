/** One generation, its tokens handed to a sink once per animation frame (see frame-buffer.ts). */
import type { GenerateRequest, GenerateResult } from '../../protocol/messages';
import type { TokenPoint } from '../store/metrics-slice';
import type { ActionContext } from './context';
import { FrameBuffer } from './frame-buffer';

export async function streamTokens(ctx: ActionContext, request: GenerateRequest, sink: (batch: TokenPoint[]) => void): Promise<GenerateResult> {
  const buffer = new FrameBuffer<TokenPoint>(sink, 1 << 16, ctx.schedule);
  try {
    const it = ctx.engine.generate(request);
    let r = await it.next();
    while (!r.done) {
      buffer.push({ index: r.value.index, text: r.value.text, projections: r.value.projections });
      r = await it.next();
    }
    return r.value;
  } finally {
    buffer.flush();
  }
}
