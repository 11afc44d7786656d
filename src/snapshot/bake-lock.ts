import { randomBytes } from "node:crypto";
import { link, mkdir, open, rename, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { invalidArgument, SupermachineError } from "../errors.js";
import { debugFor } from "../util/debug.js";
import { isAlive } from "../util/process-alive.js";

// The lock is an efficiency measure, not what keeps the snapshot store
// consistent: the baker renames its finished snapshot directory into place
// atomically, so even if two bakes ever overlap (a stale lock broken twice at
// once, a pid reused after a crash) one directory wins whole and the other
// process uses it. The lock only saves the minutes a second bake would cost.

const log = debugFor("snapshot");

// A bake boots a VM and runs the user's setup, which can take minutes.
const DEFAULT_TIMEOUT_MS = 30 * 60 * 1000;
const DEFAULT_POLL_MS = 100;

// A lock file is created empty and then written, so for a moment another
// process may read nothing or half the JSON. Only content that has stayed
// unreadable this long is taken for the leftover of a crash.
const UNPARSEABLE_GRACE_MS = 10_000;

/** A held bake lock; see {@link acquireBakeLock}. */
export interface BakeLock {
  /** Removes the lock file if it is still ours. Safe to call more than once. */
  release(): Promise<void>;
}

export interface BakeLockOptions {
  /** How long to wait for another holder before `WAIT_TIMEOUT`. Default 30 minutes. */
  timeoutMs?: number;
  /** How often to look whether the holder is done. Default 100 ms, jittered. */
  pollMs?: number;
  /** Stops waiting; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called once per holder when the lock is found taken and waiting begins. */
  onWait?: (holder: { pid: number }) => void;
}

interface Holder {
  pid: number;
  hostname: string;
  createdAt: string;
}

/** What was read from a lock file, with enough identity to recognise it later. */
interface LockFileState {
  text: string;
  holder: Holder | undefined;
  ino: bigint;
  mtimeNs: bigint;
}

/**
 * Takes the cross-process lock at `path`, so that of several processes baking
 * the same snapshot key one bakes and the others wait, then use its result.
 * The lock is a file created exclusively and holding the owner's pid,
 * hostname and start time; a lock whose owner died on this host is broken,
 * one from another host (a shared home directory) is waited for. Rejects with
 * `WAIT_TIMEOUT` after `timeoutMs`. Always `release()` in a `finally`.
 *
 * @example
 * const lock = await acquireBakeLock(join(dir, `${key}.lock`));
 * try {
 *   if (!(await exists(snapshotDir))) await bake();
 * } finally {
 *   await lock.release();
 * }
 */
export async function acquireBakeLock(
  path: string,
  options: BakeLockOptions = {},
): Promise<BakeLock> {
  const { timeoutMs, pollMs } = validateOptions(options);
  const { signal, onWait } = options;
  const deadline = Date.now() + timeoutMs;
  await mkdir(dirname(path), { recursive: true });

  let reported: string | undefined;
  for (;;) {
    signal?.throwIfAborted();
    const created = await tryCreate(path);
    if (created) return created;

    const state = await readLockFile(path);
    if (state === undefined) continue; // released between our two calls
    if (isStale(state)) {
      await breakStale(path, state);
      continue;
    }

    if (state.holder && reported !== state.text) {
      reported = state.text;
      log("waiting for %s, held by pid %d on %s", path, state.holder.pid, state.holder.hostname);
      onWait?.({ pid: state.holder.pid });
    }
    const left = deadline - Date.now();
    if (left <= 0) throw timeoutError(path, timeoutMs, state.holder);
    await pause(Math.min(left, jitter(pollMs)), signal);
  }
}

function validateOptions(options: BakeLockOptions): { timeoutMs: number; pollMs: number } {
  const { timeoutMs = DEFAULT_TIMEOUT_MS, pollMs = DEFAULT_POLL_MS } = options;
  if (typeof timeoutMs !== "number" || !(timeoutMs >= 0)) {
    invalidArgument("timeoutMs", "a number of milliseconds, 0 or more", timeoutMs);
  }
  if (typeof pollMs !== "number" || !(pollMs > 0) || !Number.isFinite(pollMs)) {
    invalidArgument("pollMs", "a positive number of milliseconds", pollMs);
  }
  return { timeoutMs, pollMs };
}

/** Creates the lock file, or returns undefined if someone holds it. */
async function tryCreate(path: string): Promise<HeldBakeLock | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "wx");
  } catch (error) {
    if (errorCode(error) === "EEXIST") return undefined;
    throw error;
  }

  const holder: Holder = {
    pid: process.pid,
    hostname: hostname(),
    createdAt: new Date().toISOString(),
  };
  const text = `${JSON.stringify(holder)}\n`;
  try {
    await handle.writeFile(text);
    const { ino } = await handle.stat({ bigint: true });
    await handle.close();
    log("acquired %s", path);
    return new HeldBakeLock(path, text, ino);
  } catch (error) {
    // A lock we could not finish writing (disk full) would hold others off
    // for the unparseable grace period for nothing.
    await handle.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw error;
  }
}

/** Reads the lock file and its identity in one open, or undefined if it is gone. */
async function readLockFile(path: string): Promise<LockFileState | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "r");
  } catch (error) {
    if (errorCode(error) === "ENOENT") return undefined;
    throw error;
  }
  try {
    const stats = await handle.stat({ bigint: true });
    const text = await handle.readFile("utf8");
    return { text, holder: parseHolder(text), ino: stats.ino, mtimeNs: stats.mtimeNs };
  } finally {
    await handle.close();
  }
}

function parseHolder(text: string): Holder | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined; // empty or half-written; the caller applies the grace period
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { pid, hostname, createdAt } = value as Record<string, unknown>;
  if (!Number.isSafeInteger(pid) || (pid as number) <= 0) return undefined;
  if (typeof hostname !== "string" || typeof createdAt !== "string") return undefined;
  return { pid: pid as number, hostname, createdAt };
}

function isStale(state: LockFileState): boolean {
  if (state.holder === undefined) {
    const ageMs = Date.now() - Number(state.mtimeNs / 1_000_000n);
    return ageMs > UNPARSEABLE_GRACE_MS;
  }
  // A pid on another host says nothing about processes here; that holder may
  // well be alive, so its lock is only ever waited for.
  if (state.holder.hostname !== hostname()) return false;
  return !isAlive(state.holder.pid);
}

/**
 * Moves a stale lock aside under a name of our own, which is atomic, so that
 * of several processes breaking it at once exactly one gets the file. If what
 * we moved is not the file we judged (its owner's successor replaced it in
 * between), we took a live lock: put it back and keep waiting.
 */
async function breakStale(path: string, judged: LockFileState): Promise<void> {
  const aside = `${path}.stale-${randomBytes(6).toString("hex")}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if (errorCode(error) === "ENOENT") return; // someone else broke or released it
    throw error;
  }

  try {
    const moved = await readLockFile(aside);
    if (moved && !sameFile(moved, judged)) {
      log("lock %s changed before it could be broken; putting it back", path);
      // link() does not replace: if a third process created a lock in the
      // moment the path was free, that one stands and the one we moved is
      // lost. Both then bake, and the atomic rename of the result decides.
      await link(aside, path).catch((error: unknown) => {
        if (errorCode(error) !== "EEXIST") throw error;
      });
      return;
    }
    const pid = judged.holder?.pid;
    log("broke stale lock %s%s", path, pid === undefined ? "" : ` of pid ${pid}`);
  } finally {
    await unlink(aside).catch((error: unknown) => {
      if (errorCode(error) !== "ENOENT") throw error;
    });
  }
}

function sameFile(a: LockFileState, b: LockFileState): boolean {
  // The text alone cannot tell two empty files apart, and a new file may
  // reuse a freed inode number; the three together can.
  return a.text === b.text && a.ino === b.ino && a.mtimeNs === b.mtimeNs;
}

class HeldBakeLock implements BakeLock {
  readonly #path: string;
  readonly #text: string;
  readonly #ino: bigint;
  #released: Promise<void> | undefined;

  constructor(path: string, text: string, ino: bigint) {
    this.#path = path;
    this.#text = text;
    this.#ino = ino;
  }

  release(): Promise<void> {
    this.#released ??= this.#remove();
    return this.#released;
  }

  async #remove(): Promise<void> {
    // Another process only replaces our file if it judged us dead, or a user
    // deleted it by hand; either way the file now there is not ours to remove.
    const current = await readLockFile(this.#path);
    if (current === undefined || current.text !== this.#text || current.ino !== this.#ino) {
      log("lock %s is no longer ours; leaving it", this.#path);
      return;
    }
    await unlink(this.#path).catch((error: unknown) => {
      if (errorCode(error) !== "ENOENT") throw error;
    });
    log("released %s", this.#path);
  }
}

function timeoutError(path: string, timeoutMs: number, holder: Holder | undefined) {
  const owner = holder
    ? `pid ${holder.pid} on ${holder.hostname} (since ${holder.createdAt})`
    : "a process that has not finished writing it";
  return new SupermachineError(
    "WAIT_TIMEOUT",
    `Timed out after ${timeoutMs} ms waiting for the snapshot bake lock ${path}, ` +
      `held by ${owner}. If that process is still baking, wait for it or raise ` +
      `\`timeoutMs\`; if no bake is running, delete ${path} and try again.`,
  );
}

// Jitter keeps processes that started waiting together from polling in step.
function jitter(ms: number): number {
  return ms * (0.8 + Math.random() * 0.4);
}

async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch (error) {
    // Reject with the caller's reason rather than the timer's AbortError.
    signal?.throwIfAborted();
    throw error;
  }
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
