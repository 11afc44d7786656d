import type { Redis } from "ioredis";
import type { User, UserStore } from "./users.js";

/** Cache-aside reads of users by email, invalidated on rename. */
export class UserCache {
  readonly #redis: Redis;
  readonly #store: UserStore;
  readonly #ttlSeconds: number;

  constructor(redis: Redis, store: UserStore, ttlSeconds = 60) {
    this.#redis = redis;
    this.#store = store;
    this.#ttlSeconds = ttlSeconds;
  }

  async byEmail(email: string): Promise<User | undefined> {
    const key = `user:${email.toLowerCase()}`;
    const cached = await this.#redis.get(key);
    if (cached) return JSON.parse(cached) as User;
    const user = await this.#store.findByEmail(email);
    if (user) await this.#redis.set(key, JSON.stringify(user), "EX", this.#ttlSeconds);
    return user;
  }

  async rename(user: User, name: string): Promise<void> {
    await this.#store.rename(user.id, name);
    await this.#redis.del(`user:${user.email}`);
  }
}

/** At most `limit` calls per `windowSeconds` per key. */
export async function allow(redis: Redis, key: string, limit: number, windowSeconds: number) {
  const count = await redis.incr(`rate:${key}`);
  if (count === 1) await redis.expire(`rate:${key}`, windowSeconds);
  return count <= limit;
}
