import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { localModels, selfHostedOrt, siteModels } from './scripts/vite-plugins.ts';

export default defineConfig({
  // Relative base: the built site works from any folder of any static host (no root needed).
  base: './',
  plugins: [react(), selfHostedOrt(), siteModels(), localModels()],
  worker: { format: 'es' },
  optimizeDeps: {
    // Pre-bundle everything up front: a dependency discovered at runtime would reload open pages.
    entries: ['index.html', 'tests/browser/pages/*.html'],
    include: ['@huggingface/transformers', 'react', 'react-dom', 'react-dom/client', 'react/jsx-dev-runtime', 'zustand', 'recharts'],
    exclude: ['onnxruntime-web'],
  },
  build: { target: 'es2022' },
  server: { fs: { allow: ['.'] } },
});
