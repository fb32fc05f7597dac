import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createEngine } from './client/create-engine';
import { App } from './ui/App';
import { Controller } from './ui/controller';
import { appStore } from './ui/store';
import './ui/styles.css';

const controller = new Controller(createEngine(), appStore);
void controller.probeDevice();
// Exposed for end-to-end tests and the console; holds no GPU objects.
(window as unknown as { traitlab: unknown }).traitlab = { store: appStore, controller };

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App controller={controller} />
  </StrictMode>,
);
