import { describe, expect } from "vitest";
import { allow } from "../app/cache.js";
import { test } from "./fixtures.js";

describe("UserCache and rate limits on a fresh Redis per test", () => {
  test("starts with an empty Redis", async ({ redis }) => {
    expect(await redis.dbsize()).toBe(0);
  });

  test("reads through the cache and serves the second read from Redis", async ({
    users,
    userCache,
    redis,
  }) => {
    await users.create("ada@example.com", "Ada");
    expect((await userCache.byEmail("ada@example.com"))?.name).toBe("Ada");
    expect(await redis.exists("user:ada@example.com")).toBe(1);
    await users.rename(1, "changed behind the cache's back");
    expect((await userCache.byEmail("ada@example.com"))?.name).toBe("Ada");
  });

  test("a rename through the cache invalidates it", async ({ users, userCache }) => {
    const user = await users.create("grace@example.com", "Grace");
    await userCache.byEmail("grace@example.com");
    await userCache.rename(user, "Grace H.");
    expect((await userCache.byEmail("grace@example.com"))?.name).toBe("Grace H.");
  });

  test("does not see keys the previous tests wrote", async ({ redis }) => {
    expect(await redis.keys("*")).toEqual([]);
  });

  test("limits calls per window", async ({ redis }) => {
    const answers = [];
    for (let call = 0; call < 4; call++) answers.push(await allow(redis, "api", 3, 60));
    expect(answers).toEqual([true, true, true, false]);
  });

  test("runs a command inside the Redis VM", async ({ cache }) => {
    const { stdout } = await cache.exec(["redis-cli", "ping"]);
    expect(stdout.trim()).toBe("PONG");
  });
});
