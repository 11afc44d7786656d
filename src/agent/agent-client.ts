import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import { SupermachineError } from "../errors.js";
import { debugFor } from "../util/debug.js";
import { AgentStream, type Json, type StreamLayout } from "./agent-stream.js";
import {
  channelOf,
  encodeJson,
  type Frame,
  FrameDecoder,
  FrameType,
  FramingError,
  SYNC,
  windowIncrement,
} from "./frame.js";

export const PROTOCOL_VERSION = 1;
/** A handshake slower than this carried a stale time and is repeated. */
const RESYNC_AFTER_MS = 50;

export interface HelloAck {
  version: number;
  agent: string;
  kernel: string;
  arch: string;
  bootTimeUnixNs: string;
  clockSetErr: string;
  entropyErr: string;
  /** Why the image root named on the kernel command line was not entered. */
  rootErr?: string;
}

/**
 * The host end of the agent protocol over one connected socket: handshake,
 * stream multiplexing and flow control (docs/protocol.md). It never throws
 * from socket callbacks; a broken connection fails every open stream with
 * AGENT_DISCONNECTED or AGENT_PROTOCOL_ERROR.
 */
export class AgentClient {
  readonly #socket: Socket;
  readonly #decoder = new FrameDecoder();
  readonly #streams = new Map<number, AgentStream>();
  readonly #log: ReturnType<typeof debugFor>;
  #nextId = 1;
  #failure: SupermachineError | undefined;
  #drained: Promise<void> | undefined;
  #helloWaiter: ((frame: Frame) => void) | undefined;
  #closeListeners: ((error: SupermachineError) => void)[] = [];

  constructor(socket: Socket, scope?: string) {
    this.#socket = socket;
    this.#log = debugFor("agent", scope);
    socket.on("data", (chunk: Buffer) => this.#onChunk(chunk));
    socket.on("error", (error) => this.#close("AGENT_DISCONNECTED", error));
    socket.on("close", () => this.#close("AGENT_DISCONNECTED"));
  }

  /** Sends SYNC + HELLO (clock, entropy) and waits for the agent's answer. */
  async handshake(): Promise<HelloAck> {
    const sent = Date.now();
    let ack = await this.#hello();
    // A HELLO sent at connect waits in the socket until the guest has booted,
    // so the time it carries is stale by the boot time. A second, prompt
    // exchange sets the guest clock to within one round trip.
    if (Date.now() - sent > RESYNC_AFTER_MS) ack = await this.#hello();
    this.#log("handshake done: agent %s, kernel %s", ack.agent, ack.kernel);
    return ack;
  }

  async #hello(): Promise<HelloAck> {
    const ack = new Promise<Frame>((resolve, reject) => {
      this.#helloWaiter = resolve;
      this.#closeListeners.push(reject);
    });
    const hello = {
      version: PROTOCOL_VERSION,
      timeUnixNs: (BigInt(Date.now()) * 1_000_000n).toString(),
      entropy: randomBytes(64).toString("base64"),
    };
    await this.send(Buffer.concat([SYNC, encodeJson(FrameType.Hello, 0, hello)]));
    const body = parseJson(await ack) as unknown as HelloAck;
    if (body.version !== PROTOCOL_VERSION) {
      throw new SupermachineError(
        "AGENT_PROTOCOL_MISMATCH",
        `The guest agent speaks protocol version ${body.version}, this library speaks ` +
          `${PROTOCOL_VERSION}. Rebuild the guest assets (npm run build:guest) so that the ` +
          "agent and the library come from the same release.",
      );
    }
    return body;
  }

  /** Opens a stream with an OPEN request; see the operations in the protocol. */
  open(request: Json, layout: StreamLayout): AgentStream {
    const stream = new AgentStream(this.#nextId++, this, layout);
    if (this.#failure) {
      stream.fail(this.#failure);
      return stream;
    }
    this.#streams.set(stream.id, stream);
    this.send(encodeJson(FrameType.Open, stream.id, request)).catch((error) => stream.fail(error));
    return stream;
  }

  /** Writes a frame, resolving once the socket accepted it without backlog. */
  async send(frame: Buffer): Promise<void> {
    if (this.#failure) throw this.#failure;
    if (this.#socket.write(frame)) return;
    this.#drained ??= drainedOrClosed(this.#socket).finally(() => {
      this.#drained = undefined;
    });
    await this.#drained;
    if (this.#failure) throw this.#failure;
  }

  get closed(): boolean {
    return this.#failure !== undefined;
  }

  close(): void {
    this.#close("AGENT_DISCONNECTED");
    this.#socket.destroy();
  }

  #onChunk(chunk: Buffer): void {
    try {
      const errorsBefore = this.#decoder.framingErrors;
      for (const frame of this.#decoder.push(chunk)) this.#dispatch(frame);
      // The agent precedes every HELLO_ACK with SYNC, which reads as a
      // framing error mid-stream and is how it resynchronises; so these are
      // not fatal: the decoder hunts for the next SYNC.
      if (this.#decoder.framingErrors > errorsBefore) this.#log("resynchronised on SYNC");
    } catch (error) {
      this.#close("AGENT_PROTOCOL_ERROR", error);
      this.#socket.destroy();
    }
  }

  #dispatch(frame: Frame): void {
    if (frame.type === FrameType.HelloAck) {
      const waiter = this.#helloWaiter;
      this.#helloWaiter = undefined;
      waiter?.(frame);
      return;
    }
    if (frame.stream === 0) {
      if (frame.type === FrameType.Error) this.#log("agent error: %s", frame.payload.toString());
      return;
    }
    const stream = this.#streams.get(frame.stream);
    if (!stream) return; // ended already; frames can cross in flight
    switch (frame.type) {
      case FrameType.Opened:
        stream.onOpened(parseJson(frame));
        break;
      case FrameType.Data:
        if (!stream.onData(channelOf(frame), frame.payload.subarray(1))) {
          throw new FramingError(`agent overran the window of stream ${frame.stream}`);
        }
        break;
      case FrameType.Eof:
        stream.onEof(channelOf(frame));
        break;
      case FrameType.Window:
        stream.onWindow(channelOf(frame), windowIncrement(frame));
        break;
      case FrameType.Result:
        this.#streams.delete(frame.stream);
        stream.onResult(parseJson(frame));
        break;
      case FrameType.Error:
        this.#streams.delete(frame.stream);
        stream.onError(parseJson(frame));
        break;
      default:
        break; // unknown types are ignored for forward compatibility
    }
  }

  #close(code: "AGENT_DISCONNECTED" | "AGENT_PROTOCOL_ERROR", cause?: unknown): void {
    if (this.#failure) return;
    const message =
      code === "AGENT_DISCONNECTED"
        ? "The connection to the guest agent closed (the VM stopped or crashed)."
        : `The guest agent sent data that breaks the protocol: ${String(cause)}`;
    this.#failure = new SupermachineError(code, message, { cause });
    this.#log("connection closed: %s", message);
    for (const stream of this.#streams.values()) stream.fail(this.#failure);
    this.#streams.clear();
    for (const listener of this.#closeListeners) listener(this.#failure);
    this.#closeListeners = [];
  }
}

/** One pair of listeners however many writers wait, removed when it fires. */
function drainedOrClosed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off("drain", done);
      socket.off("close", done);
      resolve();
    };
    socket.on("drain", done);
    socket.on("close", done);
  });
}

function parseJson(frame: Frame): Json {
  let value: unknown;
  try {
    value = JSON.parse(frame.payload.toString("utf8"));
  } catch (error) {
    throw new FramingError(`frame type ${frame.type} carries invalid JSON: ${String(error)}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new FramingError(`frame type ${frame.type} must carry a JSON object`);
  }
  return value as Json;
}
