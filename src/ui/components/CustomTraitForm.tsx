import { useState } from 'react';
import { useApp } from '../store';
import type { Actions } from '../actions';

/** A new trait from two descriptions ("someone who is …"), extracted on the loaded model. */
export function CustomTraitForm({ actions }: { actions: Actions }) {
  const [name, setName] = useState('');
  const [high, setHigh] = useState('');
  const [low, setLow] = useState('');
  const ready = useApp((s) => s.info !== null && s.extractStatus !== 'running' && s.streaming === null && s.compareStatus !== 'running');
  return (
    <details className="custom-trait">
      <summary>New custom trait</summary>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void actions.traits.createCustom(name, high, low).then(() => setName(''));
        }}
      >
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} maxLength={100} placeholder="Formality" />
        </label>
        <label>
          Someone who is… (high)
          <input value={high} onChange={(e) => setHigh(e.target.value)} maxLength={300} placeholder="very formal and polite" />
        </label>
        <label>
          Someone who is… (low)
          <input value={low} onChange={(e) => setLow(e.target.value)} maxLength={300} placeholder="casual and blunt" />
        </label>
        <div className="row">
          <button type="submit" disabled={!ready || !name.trim() || !high.trim() || !low.trim()}>
            Create and extract
          </button>
        </div>
      </form>
    </details>
  );
}
