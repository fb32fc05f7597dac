import { CachePanel } from './components/CachePanel';
import { ChartsPanel } from './components/ChartsPanel';
import { ChatPanel } from './components/ChatPanel';
import { ComparePanel } from './components/ComparePanel';
import { DevicePanel } from './components/DevicePanel';
import { InventoryPanel } from './components/InventoryPanel';
import { SweepPanel } from './components/SweepPanel';
import { ErrorBoundary } from './components/ErrorBoundary';
import { GeometryPanel } from './components/GeometryPanel';
import { GettingStarted } from './components/GettingStarted';
import { ModelPanel } from './components/ModelPanel';
import { PresetBar } from './components/PresetBar';
import { ProjectionsPanel } from './components/ProjectionsPanel';
import { LinkBanner } from './components/ShareControls';
import { SteeringPanel } from './components/SteeringPanel';
import type { Actions } from './actions';
import { useApp } from './store';

export function App({ actions }: { actions: Actions }) {
  const device = useApp((s) => s.device);
  return (
    <div className="app">
      <header>
        <h1>traitlab</h1>
        <span className="device" data-testid="device">
          {device ? (device.webgpu ? `WebGPU · ${device.adapter}${device.shaderF16 ? ' · shader-f16' : ''}` : 'CPU (WASM)') : 'probing GPU…'}
        </span>
        <span className="privacy">Runs in your browser: nothing leaves this page except the model download.</span>
      </header>
      <GettingStarted />
      <ErrorBoundary name="link">
        <LinkBanner actions={actions} />
      </ErrorBoundary>
      <main>
        <div className="col">
          <ErrorBoundary name="model">
            <ModelPanel actions={actions} />
          </ErrorBoundary>
          <ErrorBoundary name="steering">
            <SteeringPanel actions={actions} />
          </ErrorBoundary>
          <ErrorBoundary name="geometry">
            <GeometryPanel actions={actions} />
          </ErrorBoundary>
          <ErrorBoundary name="preset">
            <PresetBar actions={actions} />
          </ErrorBoundary>
          <ErrorBoundary name="device">
            <DevicePanel />
          </ErrorBoundary>
          <ErrorBoundary name="cache">
            <CachePanel actions={actions} />
          </ErrorBoundary>
        </div>
        <div className="col wide">
          <ErrorBoundary name="chat">
            <ChatPanel actions={actions} />
          </ErrorBoundary>
          <ErrorBoundary name="charts">
            <ChartsPanel />
          </ErrorBoundary>
          <ErrorBoundary name="projections">
            <ProjectionsPanel />
          </ErrorBoundary>
          <ErrorBoundary name="compare">
            <ComparePanel actions={actions} />
          </ErrorBoundary>
          <ErrorBoundary name="inventory">
            <InventoryPanel actions={actions} />
          </ErrorBoundary>
          <ErrorBoundary name="sweep">
            <SweepPanel actions={actions} />
          </ErrorBoundary>
        </div>
      </main>
    </div>
  );
}
