import type { TestProject } from "vitest/node";
import { bakeDeclarations } from "../fixtures/bake-declarations.js";
import { PROVIDED_KEY, storedDeclarations } from "./declarations.js";

/**
 * Added by the `supermachine()` plugin: bakes every declared image before
 * any test runs (or finds it cached), one progress line each, and hands the
 * snapshot locations to the test workers.
 */
export default async function setup(project: TestProject): Promise<void> {
  const baked = await bakeDeclarations(storedDeclarations(), (line) => console.log(line));
  const min = warmClones(project);
  for (const entry of Object.values(baked)) entry.pool = { min, ...entry.pool };
  project.provide(PROVIDED_KEY, baked);
}

/**
 * Clones each worker keeps ready: as many as tests it runs at once (Vitest
 * runs a file's tests one by one unless they are concurrent, then up to
 * `maxConcurrency`), plus one being restored while those run.
 */
function warmClones(project: TestProject): number {
  const { sequence, maxConcurrency } = project.config;
  return (sequence.concurrent ? maxConcurrency : 1) + 1;
}
