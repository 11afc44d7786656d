// One client operation per service, the same code whatever runs the
// service (a VM, a container): each makes exactly one connection attempt
// with its library's own retries off, so `until` alone decides the pacing.
import { get } from "node:http";
import { Redis } from "ioredis";
import pg from "pg";
import { eventually } from "../../test/support/eventually.js";

/** Where a service listens on the host. */
export interface Address {
  host: string;
  port: number;
}

export interface PostgresLogin {
  user: string;
  password: string;
  database: string;
}

/** Connects and sends PING; throws unless the answer is PONG. */
export async function redisPing({ host, port }: Address): Promise<void> {
  const client = new Redis({
    host,
    port,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    const reply = await client.ping();
    if (reply !== "PONG") throw new Error(`PING answered ${reply}`);
  } finally {
    client.disconnect();
  }
}

/** Connects with a password (the server requires one over TCP) and runs SELECT 1. */
export async function postgresSelect1({ host, port }: Address, login: PostgresLogin) {
  const client = new pg.Client({ host, port, ...login });
  client.on("error", () => {});
  try {
    await client.connect();
    const { rows } = await client.query("SELECT 1 AS one");
    if (rows[0]?.one !== 1) throw new Error(`SELECT 1 returned ${JSON.stringify(rows)}`);
  } finally {
    await client.end().catch(() => {}); // a refused connection has nothing to end
  }
}

/** GET / on a fresh connection (no agent); throws unless the status is 200. */
export function httpGet200({ host, port }: Address): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = get({ host, port, path: "/", agent: false, timeout: 5_000 }, (response) => {
      response.resume();
      response.on("end", () => {
        if (response.statusCode === 200) resolve();
        else reject(new Error(`GET / answered ${response.statusCode}`));
      });
    });
    request.on("timeout", () => request.destroy(new Error("GET / timed out after 5 s")));
    request.on("error", reject);
  });
}

// Short enough not to add much to a clone's tens of milliseconds, long
// enough not to busy the two cores the measured guests run on.
const RETRY_MS = 20;

/** Retries `attempt` every 20 ms until it succeeds, or throws its last error. */
export function until(attempt: () => Promise<void>, timeoutMs: number): Promise<void> {
  return eventually(attempt, timeoutMs, RETRY_MS);
}
