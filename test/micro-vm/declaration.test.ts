import { expect, test } from "vitest";
import { bakeOptionsOf, fillConnection } from "../../src/fixtures/declaration.js";
import { nginx, postgres, redis } from "../../src/fixtures/presets.js";

const ports: Record<number, number> = { 5432: 40001, 6379: 40002, 80: 40003 };
const hostPort = (guest: number) => {
  const port = ports[guest];
  if (port === undefined) throw new Error(`guest port ${guest} is not exposed`);
  return port;
};

test("connection templates get the host and each guest port's host port", () => {
  const filled = fillConnection(
    { url: "redis://{host}:{port:6379}/0", both: "{port:5432},{port:6379}", plain: "x" },
    "127.0.0.1",
    hostPort,
  );
  expect(filled).toEqual({ url: "redis://127.0.0.1:40002/0", both: "40001,40002", plain: "x" });
});

test("postgres() gives a connection string that escapes its parts", () => {
  const pg = postgres({ user: "app", password: "p@ss word", database: "my db" });
  const filled = fillConnection(pg.connection ?? {}, "127.0.0.1", hostPort);
  expect(filled.connectionString).toBe("postgresql://app:p%40ss%20word@127.0.0.1:40001/my%20db");
  expect(filled).toMatchObject({ user: "app", password: "p@ss word", database: "my db" });
  expect(pg.bake?.env).toEqual({
    POSTGRES_USER: "app",
    POSTGRES_PASSWORD: "p@ss word",
    POSTGRES_DB: "my db",
  });
  expect(pg.bake?.ports).toEqual([5432]);
  expect(pg.bake?.waitFor?.description).toMatchObject({ kind: "log", times: 2 });
});

test("a preset's own bake options and env are kept over its defaults", () => {
  const pg = postgres({ image: "my/pg:1", bake: { memoryMib: 1024, env: { TZ: "UTC" } } });
  expect(pg.image).toBe("my/pg:1");
  expect(pg.bake?.memoryMib).toBe(1024);
  expect(pg.bake?.env).toMatchObject({ TZ: "UTC", POSTGRES_USER: "postgres" });
});

test("redis() and nginx() expose their port and a url", () => {
  expect(fillConnection(redis().connection ?? {}, "127.0.0.1", hostPort).url).toBe(
    "redis://127.0.0.1:40002",
  );
  expect(fillConnection(nginx().connection ?? {}, "127.0.0.1", hostPort).url).toBe(
    "http://127.0.0.1:40003",
  );
  expect(redis().image).toBe("redis:7");
});

test("a declaration's setup becomes a bake setup that gets a handle with connection details", async () => {
  const seen: string[] = [];
  const declaration = redis({
    setupKey: "v1",
    setup: async (service) => {
      seen.push(service.url, service.name);
    },
  });
  const options = bakeOptionsOf("cache", declaration);
  expect(options.setupKey).toBe("v1");
  const fakeVm = { host: "127.0.0.1", port: hostPort };
  await options.setup?.(fakeVm as never);
  expect(seen).toEqual(["redis://127.0.0.1:40002", "cache"]);
});
