import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { invalidArgument } from "../errors.js";
import type { AnyMicroVmDeclaration } from "../fixtures/declaration.js";
import { storeDeclarations } from "./declarations.js";

export interface SupermachinePluginOptions {
  /** The services tests use, by name: `{ pg: postgres(), cache: redis() }`. */
  images?: Record<string, AnyMicroVmDeclaration>;
}

// The global setup is this directory's `global-setup` module, .ts when this
// runs from source and .js from the published build.
const globalSetup = fileURLToPath(
  new URL(`./global-setup${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

/**
 * The Vitest plugin: bakes the declared images once, before any test runs,
 * so `microVm(name)` in a test restores a ready service in milliseconds.
 *
 * @example
 * export default defineConfig({
 *   plugins: [supermachine({ images: { pg: postgres({ password: "pw" }), cache: redis() } })],
 * });
 */
export function supermachine(options: SupermachinePluginOptions = {}) {
  const images = options.images ?? {};
  for (const [name, declaration] of Object.entries(images)) {
    if (!/^[A-Za-z_][\w-]*$/.test(name)) {
      invalidArgument(`images.${name}`, "named by letters, digits, '_' or '-'", name);
    }
    if (typeof declaration?.image !== "string") {
      invalidArgument(`images.${name}.image`, "an image reference", declaration?.image);
    }
  }
  return {
    name: "supermachine",
    config() {
      storeDeclarations(images);
      return { test: { globalSetup: [globalSetup] } };
    },
  };
}
