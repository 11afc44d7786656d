/**
 * Framing of the guest agent protocol (docs/protocol.md): a u32 length, a u8
 * type, a u32 stream id and a payload, preceded on each connection by the
 * SYNC marker that both sides hunt for.
 */

export const FrameType = {
  Hello: 0x01,
  HelloAck: 0x02,
  Open: 0x03,
  Opened: 0x04,
  Data: 0x05,
  Eof: 0x06,
  Window: 0x07,
  Control: 0x08,
  Result: 0x09,
  Error: 0x0a,
  Cancel: 0x0b,
} as const;

export const SYNC = Buffer.from("ff534d53594e430a", "hex");
export const MAX_PAYLOAD = 1024 * 1024;
/** Bytes a sender may have in flight per channel before a WINDOW grant. */
export const INITIAL_WINDOW = 256 * 1024;
/** Largest DATA chunk we send, so one transfer cannot hold the port long. */
export const MAX_DATA_CHUNK = 64 * 1024;

const HEADER = 9;

export interface Frame {
  type: number;
  stream: number;
  payload: Buffer;
}

export function encodeFrame(type: number, stream: number, payload: Buffer = Buffer.alloc(0)) {
  if (payload.length > MAX_PAYLOAD) {
    throw new RangeError(`frame payload of ${payload.length} bytes exceeds ${MAX_PAYLOAD}`);
  }
  const frame = Buffer.allocUnsafe(HEADER + payload.length);
  frame.writeUInt32BE(5 + payload.length, 0);
  frame.writeUInt8(type, 4);
  frame.writeUInt32BE(stream, 5);
  payload.copy(frame, HEADER);
  return frame;
}

export function encodeJson(type: number, stream: number, body: object): Buffer {
  return encodeFrame(type, stream, Buffer.from(JSON.stringify(body), "utf8"));
}

export function encodeData(stream: number, channel: number, data: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(HEADER + 1 + data.length);
  frame.writeUInt32BE(6 + data.length, 0);
  frame.writeUInt8(FrameType.Data, 4);
  frame.writeUInt32BE(stream, 5);
  frame.writeUInt8(channel, HEADER);
  data.copy(frame, HEADER + 1);
  return frame;
}

export function encodeEof(stream: number, channel: number): Buffer {
  return encodeFrame(FrameType.Eof, stream, Buffer.from([channel]));
}

export function encodeWindow(stream: number, channel: number, increment: number): Buffer {
  const payload = Buffer.allocUnsafe(5);
  payload.writeUInt8(channel, 0);
  payload.writeUInt32BE(increment, 1);
  return encodeFrame(FrameType.Window, stream, payload);
}

/** The channel byte of a DATA, EOF or WINDOW payload, or throws. */
export function channelOf(frame: Frame): number {
  const channel = frame.payload[0];
  if (channel === undefined) throw new FramingError(`frame type ${frame.type} has no channel`);
  return channel;
}

export function windowIncrement(frame: Frame): number {
  if (frame.payload.length !== 5) throw new FramingError("WINDOW payload must be 5 bytes");
  return frame.payload.readUInt32BE(1);
}

export class FramingError extends Error {}

/**
 * Turns arbitrary chunks of the byte stream into frames. Starts hunting for
 * SYNC; after a framing error it hunts again from the first byte it could not
 * use, so a new SYNC that arrives where a length was expected is found.
 */
export class FrameDecoder {
  framingErrors = 0;
  #buffer: Buffer = Buffer.alloc(0);
  #hunting = true;

  reset(): void {
    this.#buffer = Buffer.alloc(0);
    this.#hunting = true;
  }

  push(chunk: Buffer): Frame[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const frames: Frame[] = [];
    let offset = 0;
    for (;;) {
      if (this.#hunting) {
        const found = this.#findSync(offset);
        if (found === -1) {
          offset = this.#keepPartialSync();
          break;
        }
        offset = found + SYNC.length;
        this.#hunting = false;
      }
      if (this.#buffer.length - offset < 4) break;
      const length = this.#buffer.readUInt32BE(offset);
      if (length < 5 || length > 5 + MAX_PAYLOAD) {
        this.framingErrors++;
        this.#hunting = true;
        continue;
      }
      if (this.#buffer.length - offset < 4 + length) break;
      frames.push({
        type: this.#buffer.readUInt8(offset + 4),
        stream: this.#buffer.readUInt32BE(offset + 5),
        payload: this.#buffer.subarray(offset + HEADER, offset + 4 + length),
      });
      offset += 4 + length;
    }
    this.#buffer = this.#buffer.subarray(offset);
    return frames;
  }

  #findSync(from: number): number {
    return this.#buffer.indexOf(SYNC, from);
  }

  // While hunting, only a suffix that could be the start of SYNC is worth
  // keeping; everything before it is noise.
  #keepPartialSync(): number {
    const tail = Math.min(SYNC.length - 1, this.#buffer.length);
    for (let keep = tail; keep > 0; keep--) {
      const start = this.#buffer.length - keep;
      if (this.#buffer.subarray(start).equals(SYNC.subarray(0, keep))) return start;
    }
    return this.#buffer.length;
  }
}
