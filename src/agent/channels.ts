import { Readable, Writable } from "node:stream";
import { encodeData, encodeEof, INITIAL_WINDOW, MAX_DATA_CHUNK } from "./frame.js";

/** What a channel needs from the connection: ordered, backpressured writes. */
export interface FrameSink {
  send(frame: Buffer): Promise<void>;
}

/**
 * Guest-to-host bytes of one channel, as a Node stream. Credit goes back to the
 * agent only as the application consumes bytes, so a reader that stops reading
 * stops this channel alone once `INITIAL_WINDOW` bytes are buffered.
 */
export class InboundChannel extends Readable {
  #pushed = 0;
  #credited = 0;
  readonly #grant: (increment: number) => void;

  constructor(grant: (increment: number) => void) {
    super({ highWaterMark: INITIAL_WINDOW });
    this.#grant = grant;
  }

  // Credit is returned as bytes leave the buffer. Node calls `_read` only
  // once until the next push, and the next push needs credit, so `_read`
  // alone could deadlock; every `read()` (flowing mode, iterators and pipes
  // all go through it) re-checks instead.
  override read(size?: number): unknown {
    const chunk = super.read(size);
    this.#returnCredit();
    return chunk;
  }

  override _read(): void {
    this.#returnCredit();
  }

  #returnCredit(): void {
    const consumed = this.#pushed - this.readableLength;
    const increment = consumed - this.#credited;
    if (increment <= 0) return;
    // Batch small grants, but never sit on credit while the buffer is empty:
    // that could leave the sender waiting forever.
    if (increment >= INITIAL_WINDOW / 4 || this.readableLength === 0) {
      this.#credited += increment;
      this.#grant(increment);
    }
  }

  /** Returns false when the sender overran the window it was given. */
  deliver(data: Buffer): boolean {
    this.#pushed += data.length;
    if (this.#pushed - this.#credited > INITIAL_WINDOW) return false;
    if (!this.readableEnded && !this.destroyed) this.push(data);
    return true;
  }

  finish(): void {
    if (!this.readableEnded && !this.destroyed) this.push(null);
  }
}

/**
 * Host-to-guest bytes of one channel. Writes wait for window from the agent,
 * go out in chunks of at most `MAX_DATA_CHUNK`, and `end()` sends EOF. Once the
 * stream is over (the process exited), further writes are dropped silently,
 * like writes to a pipe whose reader went away, but without an error to handle.
 */
export class OutboundChannel extends Writable {
  #window = INITIAL_WINDOW;
  #wake: (() => void) | undefined;
  #closed = false;
  readonly #sink: FrameSink;
  readonly #stream: number;
  readonly #channel: number;

  constructor(sink: FrameSink, stream: number, channel: number) {
    super({ highWaterMark: MAX_DATA_CHUNK });
    this.#sink = sink;
    this.#stream = stream;
    this.#channel = channel;
  }

  grant(increment: number): void {
    this.#window += increment;
    this.#wakeWriter();
  }

  /** The stream ended: stop waiting for window and drop what is left. */
  close(): void {
    this.#closed = true;
    this.#wakeWriter();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error) => void): void {
    this.#send(chunk).then(() => done(), done);
  }

  override _final(done: (error?: Error) => void): void {
    if (this.#closed) {
      done();
      return;
    }
    this.#sink.send(encodeEof(this.#stream, this.#channel)).then(() => done(), done);
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.close();
    done(error);
  }

  async #send(chunk: Buffer): Promise<void> {
    let offset = 0;
    while (offset < chunk.length && !this.#closed) {
      if (this.#window <= 0) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        continue;
      }
      const size = Math.min(this.#window, MAX_DATA_CHUNK, chunk.length - offset);
      this.#window -= size;
      await this.#sink.send(
        encodeData(this.#stream, this.#channel, chunk.subarray(offset, offset + size)),
      );
      offset += size;
    }
  }

  #wakeWriter(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
