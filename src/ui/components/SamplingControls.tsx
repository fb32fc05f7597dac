import { appStore, useApp } from '../store';
import { NumberField } from './NumberField';

export function SamplingControls() {
  const sampling = useApp((s) => s.sampling);
  const maxNew = useApp((s) => s.maxNewTokens);
  const fixedSeed = useApp((s) => s.fixedSeed);
  const { setSampling, setMaxNewTokens, setFixedSeed } = appStore.getState();
  return (
    <details className="sampling">
      <summary>Sampling</summary>
      <div className="row">
        <NumberField label="Temperature" value={sampling.temperature} step={0.1} min={0} max={10} onChange={(v) => setSampling({ temperature: v })} />
        <NumberField label="Top-k" value={sampling.topK} min={0} onChange={(v) => setSampling({ topK: Math.floor(v) })} />
        <NumberField label="Top-p" value={sampling.topP} step={0.05} min={0.01} max={1} onChange={(v) => setSampling({ topP: v })} />
        <NumberField
          label="Repetition penalty"
          value={sampling.repetitionPenalty}
          step={0.05}
          min={1}
          max={10}
          onChange={(v) => setSampling({ repetitionPenalty: v })}
        />
        <NumberField label="Seed" value={sampling.seed} min={0} max={2 ** 32 - 1} onChange={(v) => setSampling({ seed: Math.floor(v) })} />
        <label className="check" title="Off: Regenerate draws a new seed. On: it reuses this one (same settings, same reply).">
          <input type="checkbox" checked={fixedSeed} onChange={(e) => setFixedSeed(e.target.checked)} />
          fixed seed
        </label>
        <NumberField label="Max new tokens" value={maxNew} step={8} min={1} max={4096} onChange={(v) => setMaxNewTokens(Math.floor(v))} />
      </div>
    </details>
  );
}
