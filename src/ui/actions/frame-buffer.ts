/**
 * Bounded buffer between the token stream and the store: tokens are pushed as they arrive and
 * flushed to the store at most once per animation frame, so charts re-render per frame, not per token.
 */
export class FrameBuffer<T> {
  private items: T[] = [];
  private scheduled = false;

  constructor(
    private readonly flushTo: (batch: T[]) => void,
    private readonly capacity = 1024,
    private readonly schedule: (fn: () => void) => void = (fn) => requestAnimationFrame(() => fn()),
  ) {}

  push(item: T): void {
    this.items.push(item);
    if (this.items.length > this.capacity) this.items.splice(0, this.items.length - this.capacity);
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.items.length === 0) return;
    const batch = this.items;
    this.items = [];
    this.flushTo(batch);
  }
}
