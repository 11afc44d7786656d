import { isIP } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { SupermachineError } from "../errors.js";

export interface RetryPolicy {
  /** Attempts in total, the first included. */
  attempts: number;
  /** Delay before the first retry; doubled after each. */
  baseDelayMs: number;
  /** Upper bound for one delay, including a server's Retry-After. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 250, maxDelayMs: 10_000 };

/** A failure worth trying again: 429, 5xx, a reset connection, a short body. */
export class TransientError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Runs `operation` until it succeeds, retrying `TransientError`s and network
 * failures with exponential backoff and full jitter, so that many clients
 * hitting one busy registry spread out. Other errors pass through at once.
 */
export async function withRetries<T>(
  what: string,
  policy: RetryPolicy,
  signal: AbortSignal | undefined,
  operation: () => Promise<T>,
): Promise<T> {
  let last: unknown;
  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    signal?.throwIfAborted();
    try {
      return await operation();
    } catch (error) {
      if (!isTransient(error) || signal?.aborted) throw error;
      last = error;
      if (attempt === policy.attempts) break;
      const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      const hinted = error instanceof TransientError ? error.retryAfterMs : undefined;
      const delay =
        hinted !== undefined ? Math.min(hinted, policy.maxDelayMs) : Math.random() * backoff;
      await sleep(delay, undefined, { signal });
    }
  }
  const reason = last instanceof Error ? last.message : String(last);
  throw new SupermachineError(
    "REGISTRY_UNAVAILABLE",
    `Failed to ${what} after ${policy.attempts} attempts: ${reason}. ` +
      "Check that the registry is reachable, or try again later.",
    { cause: last },
  );
}

function isTransient(error: unknown): boolean {
  if (error instanceof TransientError) return true;
  // fetch reports refused and reset connections as a TypeError with a cause.
  return error instanceof TypeError && (error as { cause?: unknown }).cause !== undefined;
}

/** Converts a Retry-After header (seconds or an HTTP date) to milliseconds. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/**
 * Plain HTTP is used for loopback hosts and for hosts the user marked
 * insecure (`insecureRegistries` or `SUPERMACHINE_INSECURE_REGISTRIES`);
 * everything else is HTTPS, so credentials never cross a network in clear.
 */
export function registryScheme(host: string, insecure: readonly string[] = []): "http" | "https" {
  const fromEnv = (process.env.SUPERMACHINE_INSECURE_REGISTRIES ?? "")
    .split(",")
    .map((h) => h.trim())
    .filter(Boolean);
  const name = hostName(host);
  const listed = [...insecure, ...fromEnv].some((h) => h === host || h === name);
  return listed || isLoopback(name) ? "http" : "https";
}

function hostName(host: string): string {
  if (host.startsWith("[")) return host.slice(1, host.indexOf("]"));
  return host.replace(/:\d+$/, "");
}

export function isLoopback(name: string): boolean {
  if (name === "localhost" || name === "::1") return true;
  return isIP(name) === 4 && name.startsWith("127.");
}
