// Builds the web UI into web/dist when it is missing or older than its sources, so that
// `npm start` and the tests always serve the current UI without a step to remember.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = fileURLToPath(new URL('../web', import.meta.url));
const dist = join(web, 'dist');

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'dist' || e.name === 'node_modules') continue;
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

export async function buildWebIfStale() {
  const stamp = join(dist, 'admin.html');
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= newest(web)) return false;
  const { build } = await import('vite');
  // Under vitest NODE_ENV is "test", which would give React's development bundle.
  const previous = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile: join(web, 'vite.config.ts'), mode: 'production', logLevel: 'warn' });
  } finally {
    if (previous === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = previous;
  }
  return true;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const built = await buildWebIfStale();
  if (built) process.stdout.write('Built the web UI into web/dist.\n');
}
