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
  await build({ configFile: join(web, 'vite.config.ts'), logLevel: 'warn' });
  return true;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const built = await buildWebIfStale();
  if (built) process.stdout.write('Built the web UI into web/dist.\n');
}
