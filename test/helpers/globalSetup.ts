// Browser tests and page routes serve web/dist: build it once before any test file runs.
import { buildWebIfStale } from '../../scripts/build-web.mjs';

export default async function setup() {
  await buildWebIfStale();
}
