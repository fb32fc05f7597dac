/** Hooks that derive calibrated scores from the store (memoized per store change). */
import { useMemo } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { calibrationsFor, type Calibrations } from './scores';
import { useApp } from './store';
import { traitsForModel, type TraitEntry } from './store/steering-slice';

export function useVisibleTraits(): TraitEntry[] {
  const model = useApp((s) => s.info?.model ?? s.modelInput);
  return useApp(useShallow((s) => traitsForModel(s.traits, model)));
}

export function useCalibrations(): Calibrations {
  const traits = useApp((s) => s.traits);
  const info = useApp((s) => s.info);
  const data = useApp((s) => s.traitData);
  return useMemo(() => calibrationsFor(traits, info, data), [traits, info, data]);
}
