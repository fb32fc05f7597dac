/** What the engine found about the user's GPU (or its absence), shown in the device panel. */
export interface DeviceInfo {
  webgpu: boolean;
  shaderF16: boolean;
  adapter: string;
  limits: Record<string, number>;
  /** Set when running on the WASM EP (no WebGPU): shown to the user. */
  notice?: string;
}
