import { useState } from 'react';

interface Props {
  label: string;
  value: number;
  onChange(v: number): void;
  min?: number;
  max?: number;
  step?: number;
  /** Visible label (default); false = only an ARIA label. */
  showLabel?: boolean;
  className?: string;
  disabled?: boolean;
}

/**
 * A number input that lets the user type freely ("-", "0.") and commits only valid numbers in
 * range; on blur it shows the committed value again.
 */
export function NumberField({ label, value, onChange, min, max, step = 1, showLabel = true, className, disabled }: Props) {
  const [draft, setDraft] = useState<string | null>(null);
  const valid = (x: number) => Number.isFinite(x) && (min === undefined || x >= min) && (max === undefined || x <= max);
  const input = (
    <input
      type="number"
      className={className}
      value={draft ?? String(value)}
      min={min}
      max={max}
      step={step}
      disabled={disabled}
      aria-label={showLabel ? undefined : label}
      aria-invalid={draft !== null && !valid(Number(draft))}
      onChange={(e) => {
        setDraft(e.target.value);
        const x = e.target.value.trim() === '' ? NaN : Number(e.target.value);
        if (valid(x)) onChange(x);
      }}
      onBlur={() => setDraft(null)}
    />
  );
  if (!showLabel) return input;
  return (
    <label>
      {label}
      {input}
    </label>
  );
}
