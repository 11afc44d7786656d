import { randomBytes } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";

/** Writes JSON by rename, so a reader sees the old file or the new one, never half. */
export async function writeJsonFile(path: string, value: unknown): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(temp, path);
}

/** The parsed file, or undefined when it is missing or not JSON. */
export async function readJsonFile<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as T;
  } catch {
    // Missing, or replaced between listing and reading: treated as absent.
    return undefined;
  }
}
