import { createServer } from 'vite';
const server = await createServer({ configFile: 'vite.config.ts', server: { port: 0, host: '127.0.0.1' }, logLevel: 'info' });
await server.listen();
const addr = server.httpServer!.address() as { port: number };
const base = `http://127.0.0.1:${addr.port}`;
for (const u of ['/src/engine/runtime/ort.ts', '/bench/page/bench-harness.ts']) {
  const t = await (await fetch(base + u)).text();
  console.log(u, t.split('\n').filter((l) => /import/.test(l)).slice(0, 30).join('\n'));
}
const dep = await (await fetch(base + '/node_modules/.vite/deps/@huggingface_transformers.js')).text();
console.log(dep.split('\n').filter((l) => /onnxruntime/.test(l)).slice(0, 5).join('\n'));
await server.close();
