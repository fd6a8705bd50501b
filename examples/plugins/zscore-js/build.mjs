// Build dist/zscore-js.wasm from app.js with componentize-js; what
// `foghorn plugin build` runs (through `npm run build`).
import { mkdir, writeFile } from 'node:fs/promises';
import { componentize } from '@bytecodealliance/componentize-js';

const { component } = await componentize({
  sourcePath: 'app.js',
  witPath: 'wit',
  worldName: 'processor',
  // The agent offers WASI's clocks, random and stdio, not HTTP.
  disableFeatures: ['http', 'fetch-event'],
});
await mkdir('dist', { recursive: true });
await writeFile('dist/zscore-js.wasm', component);
