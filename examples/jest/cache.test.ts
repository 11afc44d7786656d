import { describe, expect, test } from "@jest/globals";
import { Redis } from "ioredis";
import { microVm, redis } from "supermachine/jest";
import { allow } from "../app/cache.js";
import { images } from "../images.js";
import { useCache, useDatabase } from "./services.js";

describe("UserCache and rate limits on a fresh Redis per test", () => {
  const database = useDatabase();
  const cache = useCache(database);

  test("starts with an empty Redis", async () => {
    expect(await cache.redis.dbsize()).toBe(0);
  });

  test("reads through the cache and serves the second read from Redis", async () => {
    const { users } = database;
    const { userCache } = cache;
    await users.create("ada@example.com", "Ada");
    expect((await userCache.byEmail("ada@example.com"))?.name).toBe("Ada");
    expect(await cache.redis.exists("user:ada@example.com")).toBe(1);
    await users.rename(1, "changed behind the cache's back");
    expect((await userCache.byEmail("ada@example.com"))?.name).toBe("Ada");
  });

  test("a rename through the cache invalidates it", async () => {
    const { users } = database;
    const { userCache } = cache;
    const user = await users.create("grace@example.com", "Grace");
    await userCache.byEmail("grace@example.com");
    await userCache.rename(user, "Grace H.");
    expect((await userCache.byEmail("grace@example.com"))?.name).toBe("Grace H.");
  });

  test("does not see keys the previous tests wrote", async () => {
    expect(await cache.redis.keys("*")).toEqual([]);
  });

  test("limits calls per window", async () => {
    const answers = [];
    for (let call = 0; call < 4; call++) answers.push(await allow(cache.redis, "api", 3, 60));
    expect(answers).toEqual([true, true, true, false]);
  });

  test("runs a command inside the Redis VM", async () => {
    const { stdout } = await cache.vm.exec(["redis-cli", "ping"]);
    expect(stdout.trim()).toBe("PONG");
  });

  test("a Redis declared in the test file is a VM of its own", async () => {
    await using other = await microVm(redis({ image: images.redis, pool: { min: 1 } }));
    const client = new Redis(other.url, { maxRetriesPerRequest: 1 });
    try {
      await cache.redis.set("greeting", "hello");
      expect(await client.get("greeting")).toBeNull();
    } finally {
      client.disconnect();
    }
  });
});
