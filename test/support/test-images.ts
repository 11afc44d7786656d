import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { type RunningRegistry, startRegistry } from "../oci/support/registry.js";

const run = promisify(execFile);
const imagesDir = join(import.meta.dirname, "..", "images");

export type TestImage = "busybox" | "layered" | "multiarch" | "redis" | "nginx" | "postgres";

/**
 * The OCI layout of one of the test images built from Debian packages
 * (test/images/), building it first if its recipe changed.
 */
export async function testImageLayout(name: TestImage): Promise<string> {
  const { stdout } = await run("bash", [join(imagesDir, "build.sh"), name], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const path = stdout.trim().split("\n").at(-1);
  if (!path) throw new Error(`test/images/build.sh ${name} printed no layout path`);
  return path;
}

export interface TestRegistry extends RunningRegistry {
  /** `127.0.0.1:<port>/<name>:test`, pushed and ready to pull. */
  ref(name: TestImage): string;
}

/** A loopback registry with the given test images pushed as `<name>:test`. */
export async function registryWith(names: TestImage[]): Promise<TestRegistry> {
  const layouts = await Promise.all(names.map(testImageLayout));
  const registry = await startRegistry();
  try {
    for (const [index, name] of names.entries()) {
      const ref = `${registry.host}/${name}:test`;
      await run("bash", [join(imagesDir, "push.sh"), layouts[index] as string, ref]);
    }
  } catch (error) {
    await registry.stop();
    throw error;
  }
  return { ...registry, ref: (name) => `${registry.host}/${name}:test` };
}
