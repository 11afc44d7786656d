// Real services from images built of Debian packages, reached from the host
// with the clients an application would use.
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, expect, test } from "vitest";
import { Image } from "../../src/image/image.js";
import { eventually } from "../support/eventually.js";
import { registryWith, type TestRegistry } from "../support/test-images.js";

let registry: TestRegistry;
beforeAll(async () => {
  registry = await registryWith(["redis", "nginx", "postgres"]);
});
afterAll(() => registry?.stop());

test("redis answers PING and keeps a value, through vm.port()", async () => {
  const image = await Image.pull(registry.ref("redis"));
  await using vm = await image.start({ ports: [6379] });
  const redis = await eventually(async () => {
    // One connection attempt per try; the retry loop is ours, not ioredis's.
    const candidate = new Redis({
      host: vm.host,
      port: vm.port(6379),
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    candidate.on("error", () => {});
    try {
      await candidate.connect();
      await candidate.ping();
      return candidate;
    } catch (error) {
      candidate.disconnect();
      throw error;
    }
  }, 90_000);
  try {
    expect(await redis.ping()).toBe("PONG");
    await redis.set("greeting", "hello");
    expect(await redis.get("greeting")).toBe("hello");
  } finally {
    redis.disconnect();
  }
});

test("nginx serves a file written into its docroot", async () => {
  const image = await Image.pull(registry.ref("nginx"));
  // No `ports`: the image's ExposedPorts (80/tcp) are exposed by default.
  await using vm = await image.start();
  await vm.writeFile("/usr/share/nginx/html/hello.txt", "written by the test\n");
  const response = await eventually(async () => {
    const res = await fetch(`http://${vm.host}:${vm.port(80)}/hello.txt`);
    if (res.status !== 200) throw new Error(`status ${res.status}`);
    return res;
  }, 90_000);
  expect(await response.text()).toBe("written by the test\n");
});

test("postgres accepts the password from env and runs SQL", async () => {
  const image = await Image.pull(registry.ref("postgres"));
  await using vm = await image.start({
    ports: [5432],
    env: { POSTGRES_PASSWORD: "s3cret", POSTGRES_DB: "app" },
    memoryMib: 512,
  });
  const client = await eventually(async () => {
    const candidate = new pg.Client({
      host: vm.host,
      port: vm.port(5432),
      user: "postgres",
      password: "s3cret",
      database: "app",
    });
    candidate.on("error", () => {}); // a refused attempt is retried
    try {
      await candidate.connect();
      return candidate;
    } catch (error) {
      await candidate.end().catch(() => {});
      throw error;
    }
  }, 180_000);
  try {
    expect((await client.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    await client.query("CREATE TABLE users (id serial PRIMARY KEY, name text)");
    await client.query("INSERT INTO users (name) VALUES ($1)", ["ada"]);
    expect((await client.query("SELECT name FROM users")).rows).toEqual([{ name: "ada" }]);
  } finally {
    await client.end();
  }
  const wrong = new pg.Client({
    host: vm.host,
    port: vm.port(5432),
    user: "postgres",
    password: "wrong",
    database: "app",
  });
  await expect(wrong.connect()).rejects.toThrow(/password authentication failed/);
}, 300_000);
