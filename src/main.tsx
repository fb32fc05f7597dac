import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createEngine } from './client/create-engine';
import { createActions } from './ui/actions';
import { App } from './ui/App';
import { appStore } from './ui/store';
import { fetchTraitIndex } from './ui/trait-index';
import './ui/styles.css';

const actions = createActions(appStore, createEngine());
void actions.session.probeDevice();
// Exposed for end-to-end tests and the console; holds no GPU objects.
(window as unknown as { traitlab: unknown }).traitlab = { store: appStore, actions };

// The trait list is read before the first paint, so the sliders are there from the start.
const index = await fetchTraitIndex();
appStore.getState().setBuiltinTraits(index.entries);
appStore.getState().setTraitIndexError(index.error);
// A share link restores its settings (the model download waits for the user).
await actions.links.open(location.hash);
// Inventory items and earlier sweep results (per model) for the measurement panels.
void actions.psych.loadBuiltinItems();
actions.psych.loadSweeps();
window.addEventListener('hashchange', () => void actions.links.open(location.hash));

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App actions={actions} />
  </StrictMode>,
);
