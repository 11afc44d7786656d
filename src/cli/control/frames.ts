import type { Socket } from "node:net";

/**
 * The control socket's framing after the header lines (docs/cli.md): one
 * byte of type, four of big-endian length, then the payload.
 */
export const FrameType = {
  /** Client to VM: the process's stdin; an empty payload closes it. */
  stdin: 0,
  stdout: 1,
  stderr: 2,
  /** Either way: a JSON object (`resize`, `signal`, `exit`, `error`). */
  control: 3,
} as const;

export interface Frame {
  type: number;
  payload: Buffer;
}

// No frame needs more: output is forwarded in the chunks it arrives in.
const MAX_FRAME_BYTES = 4 * 1024 * 1024;
const HEADER_BYTES = 5;
const MAX_LINE_BYTES = 64 * 1024;

export function encodeFrame(type: number, payload: Buffer | string): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(body.length, 1);
  return Buffer.concat([header, body]);
}

export function controlFrame(message: Record<string, unknown>): Buffer {
  return encodeFrame(FrameType.control, JSON.stringify(message));
}

/** Cuts a byte stream into frames, however the bytes were split. */
export class FrameDecoder {
  #buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    const frames: Frame[] = [];
    while (this.#buffer.length >= HEADER_BYTES) {
      const length = this.#buffer.readUInt32BE(1);
      if (length > MAX_FRAME_BYTES) throw new Error(`control frame of ${length} bytes refused`);
      if (this.#buffer.length < HEADER_BYTES + length) break;
      const type = this.#buffer.readUInt8(0);
      const payload = this.#buffer.subarray(HEADER_BYTES, HEADER_BYTES + length);
      frames.push({ type, payload });
      this.#buffer = this.#buffer.subarray(HEADER_BYTES + length);
    }
    return frames;
  }
}

/**
 * Reads one newline-terminated JSON object (a request or a reply header)
 * and puts back whatever followed it, for the frames or bytes after it.
 */
export function readJsonLine(socket: Socket): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const cleanup = () => {
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("error", onError);
    };
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const newline = buffered.indexOf(10);
      if (newline === -1) {
        if (buffered.length > MAX_LINE_BYTES) fail(new Error("control header too long"));
        return;
      }
      cleanup();
      socket.pause();
      const rest = buffered.subarray(newline + 1);
      if (rest.length) socket.unshift(rest);
      try {
        const value = JSON.parse(buffered.subarray(0, newline).toString("utf8"));
        if (typeof value !== "object" || value === null || Array.isArray(value)) {
          throw new Error("not an object");
        }
        resolve(value);
      } catch (error) {
        reject(new Error(`bad control header: ${(error as Error).message}`));
      }
    };
    const fail = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onEnd = () => fail(new Error("the connection closed before a header"));
    const onError = (error: Error) => fail(error);
    socket.on("data", onData);
    socket.on("end", onEnd);
    socket.on("error", onError);
  });
}

export function writeJsonLine(socket: Socket, value: Record<string, unknown>): void {
  socket.write(`${JSON.stringify(value)}\n`);
}
