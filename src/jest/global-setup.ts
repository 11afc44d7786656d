import { bakeDeclarations } from "../fixtures/bake-declarations.js";
import {
  imagesModuleOf,
  type JestProjectConfig,
  loadDeclaredImages,
  publishBaked,
} from "./images-module.js";

/**
 * Jest's `globalSetup`: before any test file runs, bakes every image the
 * project's images module declares (or finds it cached), one progress line
 * each, and leaves the snapshot locations for the test environment.
 *
 * @example
 * // jest.config.js
 * export default {
 *   testEnvironment: "supermachine/jest/environment",
 *   globalSetup: "supermachine/jest/global-setup",
 *   testEnvironmentOptions: { supermachine: { images: "./test/images.ts" } },
 * };
 */
export default async function globalSetup(
  _globalConfig: unknown,
  project: JestProjectConfig,
): Promise<void> {
  const imagesModule = imagesModuleOf(project);
  if (imagesModule === undefined) return;
  const images = await loadDeclaredImages(imagesModule);
  const baked = await bakeDeclarations(images, (line) => console.log(line));
  publishBaked(imagesModule, baked);
}
