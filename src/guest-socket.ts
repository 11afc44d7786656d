import { Duplex } from "node:stream";
import type { AgentStream } from "./agent/agent-stream.js";

/**
 * A TCP connection to a port inside the guest, carried over the agent
 * connection. Behaves like a connected `net.Socket` for reading, writing,
 * half-close (`end()`) and `destroy()`.
 */
export class GuestSocket extends Duplex {
  readonly remotePort: number;
  readonly #stream: AgentStream;

  constructor(stream: AgentStream, port: number) {
    super({ allowHalfOpen: true });
    this.remotePort = port;
    this.#stream = stream;
    const inbound = stream.inbound(0);
    inbound.on("data", (chunk: Buffer) => {
      if (!this.push(chunk)) inbound.pause();
    });
    inbound.on("end", () => this.push(null));
    stream.result.catch((error) => this.destroy(error));
  }

  override _read(): void {
    this.#stream.inbound(0).resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (e?: Error | null) => void) {
    this.#stream.outbound(0).write(chunk, done);
  }

  override _final(done: (error?: Error | null) => void): void {
    this.#stream.outbound(0).end(done);
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.#stream.cancel();
    done(error);
  }
}
