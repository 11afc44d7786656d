import { chmod, mkdir, mkdtemp, rename, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { SupermachineError } from "../../src/errors.js";
import { hashDirectory } from "../../src/snapshot/hash-directory.js";

const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A fresh temp directory holding `files` (relative path to content). */
async function tree(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sm-hash-dir-"));
  dirs.push(dir);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

const migrations = {
  "001-create.sql": "create table users (id int);\n",
  "002-index.sql": "create index on users (id);\n",
  "seed/users.csv": "1\n2\n",
};

test("the same content in two places hashes the same", async () => {
  const a = await hashDirectory(await tree(migrations));
  const b = await hashDirectory(await tree(migrations));
  expect(a).toMatch(/^sha256:[0-9a-f]{64}$/);
  expect(b).toBe(a);
});

test.each<[string, (dir: string) => Promise<unknown>]>([
  [
    "changing a byte",
    (dir) => writeFile(join(dir, "001-create.sql"), "create table userz (id int);\n"),
  ],
  ["renaming a file", (dir) => rename(join(dir, "002-index.sql"), join(dir, "003-index.sql"))],
  ["adding an empty directory", (dir) => mkdir(join(dir, "empty"))],
  ["making a file executable", (dir) => chmod(join(dir, "001-create.sql"), 0o755)],
  ["adding an empty file", (dir) => writeFile(join(dir, "004.sql"), "")],
  ["removing a file", (dir) => rm(join(dir, "seed", "users.csv"))],
  [
    "moving a file into a subdirectory",
    (dir) => rename(join(dir, "002-index.sql"), join(dir, "seed", "002-index.sql")),
  ],
])("%s changes the hash", async (_name, change) => {
  const dir = await tree(migrations);
  const before = await hashDirectory(dir);
  await change(dir);
  expect(await hashDirectory(dir)).not.toBe(before);
});

test("moving content from one file to the next changes the hash", async () => {
  // Concatenated in order, both trees read "ab"; only field boundaries differ.
  const a = await hashDirectory(await tree({ x: "a", y: "b" }));
  const b = await hashDirectory(await tree({ x: "ab", y: "" }));
  const c = await hashDirectory(await tree({ x: "", y: "ab" }));
  expect(new Set([a, b, c]).size).toBe(3);
});

test("a symlink is hashed by its target, not followed", async () => {
  const dir = await tree(migrations);
  await symlink("001-create.sql", join(dir, "latest.sql"));
  const before = await hashDirectory(dir);

  await writeFile(join(dir, "001-create.sql"), "changed");
  const afterContent = await hashDirectory(dir);
  expect(afterContent).not.toBe(before);

  await rm(join(dir, "latest.sql"));
  await symlink("002-index.sql", join(dir, "latest.sql"));
  expect(await hashDirectory(dir)).not.toBe(afterContent);
});

test("timestamps do not change the hash", async () => {
  const dir = await tree(migrations);
  const before = await hashDirectory(dir);
  const old = new Date("2001-01-01T00:00:00Z");
  await utimes(join(dir, "001-create.sql"), old, old);
  await utimes(join(dir, "seed"), old, old);
  expect(await hashDirectory(dir)).toBe(before);
});

test("ignore leaves out files and whole directories", async () => {
  const dir = await tree(migrations);
  const ignore = (path: string) => path.endsWith(".md") || path === "node_modules";
  const before = await hashDirectory(dir, { ignore });

  await writeFile(join(dir, "README.md"), "notes");
  await mkdir(join(dir, "node_modules", "pkg"), { recursive: true });
  await writeFile(join(dir, "node_modules", "pkg", "index.js"), "");
  expect(await hashDirectory(dir, { ignore })).toBe(before);
  expect(await hashDirectory(dir)).not.toBe(before);

  const seen: string[] = [];
  const record = (path: string) => {
    seen.push(path);
    return false;
  };
  await hashDirectory(dir, { ignore: record });
  expect(seen).toContain("seed/users.csv");
});

test("a file larger than one read chunk hashes by its whole content", async () => {
  const big = "x".repeat(1024 * 1024);
  const a = await hashDirectory(await tree({ big }));
  const b = await hashDirectory(await tree({ big: `${big.slice(1)}y` }));
  expect(a).not.toBe(b);
});

test("a missing directory is INVALID_ARGUMENT naming the path", async () => {
  const missing = join(tmpdir(), "sm-hash-dir-does-not-exist", "migrations");
  const error = await hashDirectory(missing).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(SupermachineError);
  expect(error).toMatchObject({ code: "INVALID_ARGUMENT" });
  expect((error as Error).message).toContain(missing);
});

test("a file instead of a directory is INVALID_ARGUMENT", async () => {
  const dir = await tree(migrations);
  await expect(hashDirectory(join(dir, "001-create.sql"))).rejects.toMatchObject({
    code: "INVALID_ARGUMENT",
    message: expect.stringContaining("not a directory"),
  });
});
