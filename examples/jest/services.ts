import { afterEach, beforeEach } from "@jest/globals";
import { Redis } from "ioredis";
import pg from "pg";
import { type MicroVm, microVm } from "supermachine/jest";
import { UserCache } from "../app/cache.js";
import { UserStore } from "../app/users.js";

export interface Database {
  vm: MicroVm;
  db: pg.Client;
  users: UserStore;
}

export interface Cache {
  vm: MicroVm;
  redis: Redis;
  userCache: UserCache;
}

/**
 * Gives every test of the file a fresh PostgreSQL microVM (the test
 * environment stops it when the test ends), a client connected to it, and
 * the UserStore on that client.
 */
export function useDatabase(): Database {
  const database = {} as Database;
  beforeEach(async () => {
    database.vm = await microVm("pg");
    database.db = new pg.Client(database.vm.connectionString);
    await database.db.connect();
    database.users = new UserStore(database.db);
  });
  afterEach(async () => {
    await database.db?.end();
  });
  return database;
}

/** Gives every test a fresh Redis microVM, a client, and a UserCache in front of `database`. */
export function useCache(database: Database): Cache {
  const cache = {} as Cache;
  beforeEach(async () => {
    cache.vm = await microVm("cache");
    cache.redis = new Redis(cache.vm.url, { maxRetriesPerRequest: 1 });
    cache.userCache = new UserCache(cache.redis, database.users);
  });
  afterEach(() => {
    cache.redis?.disconnect();
  });
  return cache;
}
