import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { localModels, selfHostedOrt } from './scripts/vite-plugins';

export default defineConfig({
  plugins: [react(), selfHostedOrt(), localModels()],
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  build: { target: 'es2022' },
  server: { fs: { allow: ['.'] } },
  assetsInclude: ['**/*.onnx'],
});
