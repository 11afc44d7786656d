import { EventEmitter } from "node:events";
import { connect, type Socket } from "node:net";
import { SupermachineError } from "../errors.js";
import { debugFor } from "../util/debug.js";

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

interface Pending {
  command: string;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  timer: NodeJS.Timeout;
}

/**
 * A client for the QEMU Machine Protocol: newline-delimited JSON over a unix
 * socket. Commands carry ids so replies match even with events interleaved;
 * events are emitted as `event` and by name.
 */
export class QmpClient extends EventEmitter {
  readonly #socket: Socket;
  readonly #pending = new Map<string, Pending>();
  readonly #log: ReturnType<typeof debugFor>;
  #buffer = "";
  #nextId = 1;
  #closed: SupermachineError | undefined;
  #greeting: ((value: unknown) => void) | undefined;

  private constructor(socket: Socket, scope?: string) {
    super();
    this.#socket = socket;
    this.#log = debugFor("qmp", scope);
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => this.#onData(chunk));
    socket.on("error", (error) => this.#fail(error));
    socket.on("close", () => this.#fail());
  }

  /** Reads the greeting and negotiates capabilities on a connected socket. */
  static async over(socket: Socket, options: { timeoutMs: number; scope?: string }) {
    const client = new QmpClient(socket, options.scope);
    const greeting = new Promise((resolve, reject) => {
      client.#greeting = resolve;
      client.once("close", () => reject(client.#closed));
    });
    await withTimeout(greeting, options.timeoutMs, "the QMP greeting").catch((error) => {
      socket.destroy();
      throw error;
    });
    await client.execute("qmp_capabilities", undefined, { timeoutMs: options.timeoutMs });
    return client;
  }

  /** Runs a command and resolves with its `return` value. */
  execute(
    command: string,
    args?: Record<string, unknown>,
    options: { timeoutMs?: number } = {},
  ): Promise<unknown> {
    if (this.#closed) return Promise.reject(this.#closed);
    const id = `c${this.#nextId++}`;
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(
          new SupermachineError(
            "QMP_TIMEOUT",
            `QMP command ${command} got no reply in ${timeoutMs} ms.`,
          ),
        );
      }, timeoutMs);
      this.#pending.set(id, { command, resolve, reject, timer });
      this.#log("-> %s %o", command, args ?? {});
      this.#socket.write(`${JSON.stringify({ execute: command, arguments: args, id })}\n`);
    });
  }

  close(): void {
    this.#socket.destroy();
  }

  #onData(chunk: string): void {
    this.#buffer += chunk;
    for (;;) {
      const newline = this.#buffer.indexOf("\n");
      if (newline === -1) return;
      const line = this.#buffer.slice(0, newline).trim();
      this.#buffer = this.#buffer.slice(newline + 1);
      if (line) this.#onMessage(line);
    }
  }

  #onMessage(line: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line);
    } catch {
      this.#log("ignoring a line that is not JSON: %s", line);
      return;
    }
    if ("QMP" in message) {
      this.#greeting?.(message);
      return;
    }
    if (typeof message.event === "string") {
      this.#log("<- event %s", message.event);
      this.emit("event", message as unknown as QmpEvent);
      this.emit(message.event, message as unknown as QmpEvent);
      return;
    }
    const pending = this.#pending.get(String(message.id));
    if (!pending) return;
    this.#pending.delete(String(message.id));
    clearTimeout(pending.timer);
    if ("error" in message) {
      const error = message.error as { class?: string; desc?: string };
      pending.reject(
        new SupermachineError(
          "QMP_ERROR",
          `QMP ${pending.command} failed: ${error.desc ?? error.class}`,
        ),
      );
    } else {
      pending.resolve(message.return);
    }
  }

  #fail(cause?: unknown): void {
    if (this.#closed) return;
    this.#closed = new SupermachineError("QMP_ERROR", "The QMP connection closed (QEMU exited).", {
      cause,
    });
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(this.#closed);
    }
    this.#pending.clear();
    this.emit("close");
  }
}

export function connectUnix(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once("connect", () => {
      socket.removeListener("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new SupermachineError("QMP_TIMEOUT", `Timed out after ${ms} ms waiting for ${what}.`),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
