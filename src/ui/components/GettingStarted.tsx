/**
 * The one-line orientation under the header: pick a model → extract traits → drag sliders,
 * each step ticked as the user does it (the first open step is marked current).
 */
import { useApp } from '../store';

interface Step {
  id: 'model' | 'extract' | 'steer';
  label: string;
  done: boolean;
}

export function GettingStarted() {
  const loaded = useApp((s) => s.info !== null);
  const extracted = useApp((s) => Object.values(s.vectorKind).includes('extracted') || Object.keys(s.customTraits).length > 0);
  const steered = useApp((s) => s.traits.some((t) => t.enabled && t.strength !== 0));
  const steps: Step[] = [
    { id: 'model', label: 'Pick a model and load it', done: loaded },
    { id: 'extract', label: 'Extract traits', done: extracted },
    { id: 'steer', label: 'Drag sliders and chat', done: steered },
  ];
  const current = steps.find((s) => !s.done)?.id;
  return (
    <nav className="steps" aria-label="Getting started">
      <ol data-testid="steps">
        {steps.map((s, i) => (
          <li key={s.id} data-step={s.id} data-done={String(s.done)} aria-current={s.id === current ? 'step' : undefined}>
            <span className="mark" aria-hidden="true">
              {s.done ? '✓' : i + 1}
            </span>
            {s.label}
            {s.done && <span className="sr-only"> (done)</span>}
          </li>
        ))}
      </ol>
    </nav>
  );
}
