import { mkdir, readdir, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { usageError } from "../exit-codes.js";
import { readJsonFile, writeJsonFile } from "./json-file.js";
import { namesDir } from "./state-dir.js";

/** `names/<name>.json`: a snapshot baked with `bake --name`. */
export interface SnapshotName {
  name: string;
  /** The snapshot directory (in the cache, named by its bake key). */
  dir: string;
  image: string;
  ports: number[];
  createdAt: string;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

export function checkName(name: string, command: string): string {
  if (NAME.test(name)) return name;
  throw usageError(
    `\`--name\` takes letters, digits, '_', '.' and '-' (starting with a letter or digit), ` +
      `received ${JSON.stringify(name)}`,
    command,
  );
}

export async function saveName(entry: SnapshotName): Promise<void> {
  await mkdir(namesDir(), { recursive: true });
  await writeJsonFile(join(namesDir(), `${entry.name}.json`), entry);
}

export function readName(name: string): Promise<SnapshotName | undefined> {
  if (!NAME.test(name)) return Promise.resolve(undefined);
  return readJsonFile<SnapshotName>(join(namesDir(), `${name}.json`));
}

export async function listNames(): Promise<SnapshotName[]> {
  const files = await readdir(namesDir()).catch(() => [] as string[]);
  const entries = await Promise.all(
    files
      .filter((file) => file.endsWith(".json"))
      .map((file) => readJsonFile<SnapshotName>(join(namesDir(), file))),
  );
  return entries
    .filter((entry): entry is SnapshotName => entry !== undefined)
    .sort((a, b) => a.name.localeCompare(b.name));
}

export async function removeName(name: string): Promise<void> {
  await rm(join(namesDir(), `${name}.json`), { force: true });
}

/** The names that point at snapshot directory `dir`. */
export async function namesOf(dir: string): Promise<string[]> {
  const full = resolve(dir);
  return (await listNames()).filter((entry) => resolve(entry.dir) === full).map((e) => e.name);
}
