// Browser tests and page routes serve web/dist: build it once before any test file runs.
// A failed build is reported, not fatal here: the browser tests that need the UI fail on
// their own, and the API tests still run.
import { buildWebIfStale } from '../../scripts/build-web.mjs';

export default async function setup() {
  try {
    await buildWebIfStale();
  } catch (err) {
    console.warn(`web UI build failed: ${(err as Error).message.split('\n')[0]}`);
  }
}
