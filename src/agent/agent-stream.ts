import { SupermachineError } from "../errors.js";
import { type FrameSink, InboundChannel, OutboundChannel } from "./channels.js";
import { encodeFrame, encodeJson, encodeWindow, FrameType } from "./frame.js";

export type Json = Record<string, unknown>;

export interface StreamLayout {
  /** Channels the guest sends on (stdout = 1, stderr = 2, data = 0). */
  inbound: number[];
  /** Channels the host sends on (stdin or data = 0). */
  outbound: number[];
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Callers may legitimately await only one of `opened` and `result`.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/** One operation on the agent connection: an exec, a file transfer, a socket. */
export class AgentStream {
  readonly id: number;
  readonly #sink: FrameSink;
  readonly #inbound = new Map<number, InboundChannel>();
  readonly #outbound = new Map<number, OutboundChannel>();
  readonly #opened = deferred<Json>();
  readonly #result = deferred<Json>();
  #done = false;

  constructor(id: number, sink: FrameSink, layout: StreamLayout) {
    this.id = id;
    this.#sink = sink;
    for (const channel of layout.inbound) {
      const grant = (increment: number) => {
        if (!this.#done) this.#sendQuietly(encodeWindow(id, channel, increment));
      };
      this.#inbound.set(channel, new InboundChannel(grant));
    }
    for (const channel of layout.outbound) {
      this.#outbound.set(channel, new OutboundChannel(sink, id, channel));
    }
  }

  /** Resolves with the agent's OPENED details once the operation started. */
  get opened(): Promise<Json> {
    return this.#opened.promise;
  }

  /** Resolves with the RESULT; rejects with a GUEST_ERROR on ERROR. */
  get result(): Promise<Json> {
    return this.#result.promise;
  }

  get done(): boolean {
    return this.#done;
  }

  inbound(channel: number): InboundChannel {
    const stream = this.#inbound.get(channel);
    if (!stream) throw new Error(`stream ${this.id} has no inbound channel ${channel}`);
    return stream;
  }

  outbound(channel: number): OutboundChannel {
    const stream = this.#outbound.get(channel);
    if (!stream) throw new Error(`stream ${this.id} has no outbound channel ${channel}`);
    return stream;
  }

  control(body: Json): Promise<void> {
    if (this.#done) return Promise.resolve();
    return this.#sink.send(encodeJson(FrameType.Control, this.id, body));
  }

  cancel(): void {
    if (!this.#done) this.#sendQuietly(encodeFrame(FrameType.Cancel, this.id));
  }

  // The methods below are called by AgentClient as frames arrive.

  onOpened(body: Json): void {
    this.#opened.resolve(body);
  }

  /** Returns false on a window overrun, which is a protocol error. */
  onData(channel: number, data: Buffer): boolean {
    return this.#inbound.get(channel)?.deliver(data) ?? true;
  }

  onEof(channel: number): void {
    this.#inbound.get(channel)?.finish();
  }

  onWindow(channel: number, increment: number): void {
    this.#outbound.get(channel)?.grant(increment);
  }

  onResult(body: Json): void {
    this.#finish();
    this.#opened.resolve({});
    this.#result.resolve(body);
  }

  onError(body: Json): void {
    const code = typeof body.code === "string" ? body.code : "EIO";
    const message = typeof body.message === "string" ? body.message : "no message";
    this.fail(new SupermachineError("GUEST_ERROR", `guest: ${message}`, { guestCode: code }));
  }

  fail(error: unknown): void {
    this.#finish();
    this.#opened.reject(error);
    this.#result.reject(error);
  }

  #finish(): void {
    this.#done = true;
    for (const channel of this.#inbound.values()) channel.finish();
    for (const channel of this.#outbound.values()) channel.close();
  }

  #sendQuietly(frame: Buffer): void {
    // A failed send means the connection is gone; the client fails every
    // stream with AGENT_DISCONNECTED, which is the error callers see.
    this.#sink.send(frame).catch(() => {});
  }
}
