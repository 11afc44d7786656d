import { createRequire } from "node:module";
import type { TestEnvironment } from "jest-environment-node";

export type NodeEnvironmentClass = typeof TestEnvironment;

/**
 * The `jest-environment-node` of the Jest that runs the tests, which may not
 * be the one this package resolves: where two Jest releases share one
 * node_modules tree, only one of them is hoisted. Jest resolves its default
 * test runner (jest-circus) from its own installation, so the environment
 * package next to that runner belongs to the same release. Failing that, the
 * one this package resolves, its peer dependency.
 */
export function nodeEnvironmentOf(testRunner: string): NodeEnvironmentClass {
  try {
    return createRequire(testRunner)("jest-environment-node").TestEnvironment;
  } catch (error) {
    if ((error as { code?: unknown }).code !== "MODULE_NOT_FOUND") throw error;
  }
  return createRequire(import.meta.url)("jest-environment-node").TestEnvironment;
}
