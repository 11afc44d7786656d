// PostgreSQL baked with a setup that creates and fills a table: every clone
// starts with the rows, without initdb, and the setupKey decides rebakes.
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import pg from "pg";
import { afterAll, beforeAll, expect, test } from "vitest";
import { type BakeOptions, Image, type Snapshot, type Vm, wait } from "../../src/index.js";
import { registryWith, type TestRegistry } from "../support/test-images.js";

let registry: TestRegistry;
let image: Image;
let snap: Snapshot;
let setupRuns = 0;
const baked = new Set<string>();
// A key unique to this run, so each run bakes afresh and cleans up after itself.
const run = randomBytes(4).toString("hex");

function client(vm: Vm): pg.Client {
  return new pg.Client({
    host: vm.host,
    port: vm.port(5432),
    user: "postgres",
    password: "pw",
    database: "postgres",
  });
}

const options = (setupKey: string): BakeOptions => ({
  env: { POSTGRES_PASSWORD: "pw" },
  ports: [5432],
  memoryMib: 512,
  waitFor: wait.forLog(/ready to accept connections/, 2, { timeoutMs: 180_000 }),
  setupKey,
  setup: async (vm) => {
    setupRuns++;
    const db = client(vm);
    await db.connect();
    try {
      await db.query("CREATE TABLE items (id int PRIMARY KEY, name text)");
      await db.query("INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, 'three')");
    } finally {
      await db.end();
    }
  },
});

beforeAll(async () => {
  registry = await registryWith(["postgres"]);
  image = await Image.pull(registry.ref("postgres"));
  snap = await image.bake(options(`items-v1-${run}`));
  baked.add(snap.dir);
});

afterAll(async () => {
  await registry?.stop();
  for (const dir of baked) await rm(dir, { recursive: true, force: true });
});

test("a clone accepts a pg connection and SELECT 1 at once, without running initdb", async () => {
  const restoredAt = new Date();
  await using vm = await snap.start();
  const db = client(vm);
  await db.connect(); // no retry: the server was accepting connections when frozen
  try {
    expect((await db.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    const started = await db.query("SELECT pg_postmaster_start_time() AS at");
    expect(started.rows[0].at.getTime()).toBeLessThan(Date.parse(snap.manifest.createdAt));
  } finally {
    await db.end();
  }
  const chunks: Buffer[] = [];
  for await (const chunk of vm.logs({ since: restoredAt })) chunks.push(chunk as Buffer);
  const sinceRestore = Buffer.concat(chunks).toString();
  expect(sinceRestore).not.toMatch(/initdb|database system will be owned|init process complete/);
});

test("every clone sees the rows setup inserted; a row added in one is absent in the next", async () => {
  for (const name of ["first", "second"]) {
    await using vm = await snap.start();
    const db = client(vm);
    await db.connect();
    try {
      const rows = await db.query("SELECT id, name FROM items ORDER BY id");
      expect(rows.rows.map((row) => row.name)).toEqual(["one", "two", "three"]);
      await db.query("INSERT INTO items VALUES (4, $1)", [name]);
      expect((await db.query("SELECT count(*)::int AS n FROM items")).rows[0].n).toBe(4);
    } finally {
      await db.end();
    }
  }
});

test("the same setupKey reuses the snapshot; a new one bakes again", async () => {
  const runsBefore = setupRuns;
  const again = await image.bake(options(`items-v1-${run}`));
  expect(again.dir).toBe(snap.dir);
  expect(again.manifest.createdAt).toBe(snap.manifest.createdAt);
  expect(setupRuns).toBe(runsBefore);

  const changed = await image.bake(options(`items-v2-${run}`));
  baked.add(changed.dir);
  expect(changed.dir).not.toBe(snap.dir);
  expect(changed.manifest.setupKey).toBe(`items-v2-${run}`);
  expect(setupRuns).toBe(runsBefore + 1);
});

test("setup without a setupKey is refused before anything boots", async () => {
  await expect(image.bake({ ...options("unused"), setupKey: undefined })).rejects.toMatchObject({
    code: "INVALID_ARGUMENT",
    message: expect.stringMatching(/setupKey/),
  });
});
