import { createRequire } from "node:module";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { invalidArgument, SupermachineError } from "../errors.js";
import type { AnyMicroVmDeclaration, BakedMicroVm } from "../fixtures/declaration.js";

/** The services a suite uses, by name: what an images module exports by default. */
export type DeclaredImages = Record<string, AnyMicroVmDeclaration>;

/** The fields of a Jest project config this integration reads. */
export interface JestProjectConfig {
  rootDir: string;
  testEnvironmentOptions: Record<string, unknown>;
}

const OPTION = "testEnvironmentOptions.supermachine";

/**
 * The absolute path of the module a project names in
 * `testEnvironmentOptions.supermachine.images` (relative to `rootDir`). The
 * declarations hold functions (`setup` hooks), so they cannot be written in
 * the Jest config itself, which Jest serializes for its workers.
 */
export function imagesModuleOf(project: JestProjectConfig): string | undefined {
  const options = project.testEnvironmentOptions.supermachine;
  if (options === undefined) return undefined;
  if (typeof options !== "object" || options === null) {
    invalidArgument(OPTION, 'an object such as { images: "./images.ts" }', options);
  }
  const { images } = options as { images?: unknown };
  if (images === undefined) return undefined;
  if (typeof images !== "string" || images === "") {
    invalidArgument(`${OPTION}.images`, "the path of a module that exports the images", images);
  }
  return resolve(project.rootDir, images);
}

/**
 * The declarations the images module exports by default: an object of
 * declarations by name, or a function returning (a promise of) one.
 */
export async function loadDeclaredImages(path: string): Promise<DeclaredImages> {
  const exported = defaultExport(await loadModule(path), path);
  const images = typeof exported === "function" ? await exported() : exported;
  checkDeclaredImages(images);
  return images;
}

// `require` first: while the global setup runs, Jest's transform (ts-jest,
// babel-jest, …) applies to what it requires, so the module may be
// TypeScript. An ES module that Node will not `require` is imported.
async function loadModule(path: string): Promise<unknown> {
  try {
    return createRequire(import.meta.url)(path);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== "ERR_REQUIRE_ESM" && code !== "ERR_REQUIRE_ASYNC_MODULE") throw error;
    return import(pathToFileURL(path).href);
  }
}

function defaultExport(module: unknown, path: string): unknown {
  if (typeof module !== "object" || module === null) return module;
  const exports = module as { __esModule?: unknown; default?: unknown };
  if ("default" in exports) return exports.default;
  const isNamespace = (exports as Record<symbol, unknown>)[Symbol.toStringTag] === "Module";
  // `module.exports = { … }`: a CommonJS module's exports are its default.
  if (!exports.__esModule && !isNamespace) return module;
  throw new SupermachineError(
    "INVALID_ARGUMENT",
    `${path} has no default export. Export the images by name as the default: ` +
      "`export default { pg: postgres(), cache: redis() }`, or a function that returns them.",
  );
}

function checkDeclaredImages(images: unknown): asserts images is DeclaredImages {
  if (typeof images !== "object" || images === null) {
    invalidArgument("images", "an object of declarations by name", images);
  }
  for (const [name, declaration] of Object.entries(images)) {
    if (!/^[A-Za-z_][\w-]*$/.test(name)) {
      invalidArgument(`images.${name}`, "named by letters, digits, '_' or '-'", name);
    }
    const image = (declaration as { image?: unknown } | undefined)?.image;
    if (typeof image !== "string") {
      invalidArgument(`images.${name}.image`, "an image reference", image);
    }
  }
}

// Jest starts its workers after the global setup and they inherit its
// environment; with --runInBand the tests run in the same process.
const BAKED_VARIABLE = "SUPERMACHINE_JEST_BAKED";

/** Hands the snapshots baked from `imagesModule` to the test environments. */
export function publishBaked(imagesModule: string, baked: Record<string, BakedMicroVm>): void {
  process.env[BAKED_VARIABLE] = JSON.stringify({ ...readBaked(), [imagesModule]: baked });
}

/** The snapshots the global setup baked for a project: none if it names no images module. */
export function bakedImagesOf(project: JestProjectConfig): Record<string, BakedMicroVm> {
  const imagesModule = imagesModuleOf(project);
  if (imagesModule === undefined) return {};
  const baked = readBaked()[imagesModule];
  if (baked === undefined) {
    throw new SupermachineError(
      "INVALID_ARGUMENT",
      `\`${OPTION}.images\` names ${imagesModule}, but no global setup baked it. Add ` +
        '`globalSetup: "supermachine/jest/global-setup"` to this project\'s Jest config.',
    );
  }
  return baked;
}

function readBaked(): Record<string, Record<string, BakedMicroVm>> {
  const json = process.env[BAKED_VARIABLE];
  return json ? JSON.parse(json) : {};
}
