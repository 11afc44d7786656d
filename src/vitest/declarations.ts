import type { AnyMicroVmDeclaration, BakedMicroVm } from "../fixtures/declaration.js";

// The plugin runs where Vitest loads its config; the global setup module is
// loaded again, through Vitest's module runner, in the same process. Only
// globalThis is shared between the two, and the declarations hold functions
// (setup hooks), so they cannot travel as serialized config.
const key = Symbol.for("supermachine.vitest.declarations");

export function storeDeclarations(images: Record<string, AnyMicroVmDeclaration>): void {
  (globalThis as Record<symbol, unknown>)[key] = images;
}

export function storedDeclarations(): Record<string, AnyMicroVmDeclaration> {
  return ((globalThis as Record<symbol, unknown>)[key] ?? {}) as Record<
    string,
    AnyMicroVmDeclaration
  >;
}

/** The `provide`/`inject` key under which workers find the baked snapshots. */
export const PROVIDED_KEY = "supermachine";

declare module "vitest" {
  export interface ProvidedContext {
    supermachine: Record<string, BakedMicroVm>;
  }
}
