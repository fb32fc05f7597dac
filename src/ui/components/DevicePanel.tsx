import { useApp } from '../store';

const SHOWN_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxStorageBuffersPerShaderStage',
];

function formatLimit(name: string, v: number): string {
  return name.endsWith('Size') && v >= 1 << 20 ? `${Math.round(v / (1 << 20))} MiB` : String(v);
}

/** What the GPU offers: adapter, shader-f16, the limits that matter for model weights. */
export function DevicePanel() {
  const device = useApp((s) => s.device);
  return (
    <details className="panel device-panel">
      <summary>
        <h2>Device</h2>
      </summary>
      {!device ? (
        <p className="hint">Probing the GPU…</p>
      ) : (
        <dl data-testid="device-panel">
          <dt>Backend</dt>
          <dd>{device.webgpu ? 'WebGPU' : 'CPU (WASM), no WebGPU'}</dd>
          <dt>Adapter</dt>
          <dd>{device.adapter || 'unknown'}</dd>
          <dt>shader-f16</dt>
          <dd>{device.shaderF16 ? 'yes (q4f16 / fp16 weights work)' : 'no (q4 / fp32 weights only)'}</dd>
          {SHOWN_LIMITS.filter((n) => device.limits[n] !== undefined).map((n) => (
            <div key={n} className="limit">
              <dt>{n}</dt>
              <dd>{formatLimit(n, device.limits[n])}</dd>
            </div>
          ))}
        </dl>
      )}
      {device?.notice && <p className="notice">{device.notice}</p>}
    </details>
  );
}
