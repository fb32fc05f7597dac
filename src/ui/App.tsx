import { ChatPanel } from './components/ChatPanel';
import { ModelPanel } from './components/ModelPanel';
import { ProjectionsPanel } from './components/ProjectionsPanel';
import { SteeringPanel } from './components/SteeringPanel';
import type { Controller } from './controller';
import { useApp } from './store';

export function App({ controller }: { controller: Controller }) {
  const device = useApp((s) => s.device);
  return (
    <div className="app">
      <header>
        <h1>traitlab</h1>
        <span className="device" data-testid="device">
          {device ? (device.webgpu ? `WebGPU · ${device.adapter}${device.shaderF16 ? ' · shader-f16' : ''}` : 'CPU (WASM)') : 'probing GPU…'}
        </span>
      </header>
      <main>
        <div className="col">
          <ModelPanel controller={controller} />
          <SteeringPanel controller={controller} />
          <ProjectionsPanel />
        </div>
        <div className="col wide">
          <ChatPanel controller={controller} />
        </div>
      </main>
    </div>
  );
}
