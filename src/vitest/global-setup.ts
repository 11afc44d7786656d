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
  project.provide(PROVIDED_KEY, baked);
}
