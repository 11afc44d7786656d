import { Redis } from "ioredis";
import pg from "pg";
import { type MicroVm, microVm } from "supermachine/vitest";
import { test as base } from "vitest";
import { UserCache } from "../app/cache.js";
import { UserStore } from "../app/users.js";

/**
 * `pg` and `cache` are fresh microVMs for every test; `db`, `redis`, `users`
 * and `userCache` are the clients and services built on them.
 */
export const test = base.extend<{
  pg: MicroVm;
  cache: MicroVm;
  db: pg.Client;
  redis: Redis;
  users: UserStore;
  userCache: UserCache;
}>({
  pg: microVm("pg"),
  cache: microVm("cache"),
  db: async ({ pg: service }, use) => {
    const client = new pg.Client(service.connectionString);
    await client.connect();
    await use(client);
    await client.end();
  },
  redis: async ({ cache }, use) => {
    const client = new Redis(cache.url, { maxRetriesPerRequest: 1 });
    await use(client);
    client.disconnect();
  },
  users: async ({ db }, use) => use(new UserStore(db)),
  userCache: async ({ redis, users }, use) => use(new UserCache(redis, users)),
});
