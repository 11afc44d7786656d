import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import {
  channelOf,
  encodeData,
  encodeEof,
  encodeFrame,
  encodeWindow,
  FrameDecoder,
  FrameType,
  INITIAL_WINDOW,
  MAX_PAYLOAD,
  SYNC,
  windowIncrement,
} from "../../src/agent/frame.js";

interface FrameVector {
  name: string;
  type: number;
  stream: number;
  channel?: number;
  dataHex?: string;
  increment?: number;
  payloadHex: string;
  hex: string;
}
interface StreamVector {
  name: string;
  inputHex: string;
  splitEveryByte: boolean;
  frames: { type: number; stream: number; payloadHex: string }[];
  framingErrors: number;
}
const vectors = JSON.parse(
  readFileSync(new URL("../vectors/protocol.json", import.meta.url), "utf8"),
) as {
  sync: string;
  maxPayload: number;
  initialWindow: number;
  frames: FrameVector[];
  streams: StreamVector[];
};

const plain = (f: { type: number; stream: number; payload: Buffer }) => ({
  type: f.type,
  stream: f.stream,
  payloadHex: f.payload.toString("hex"),
});

test("constants match the vectors", () => {
  expect(SYNC.toString("hex")).toBe(vectors.sync);
  expect(MAX_PAYLOAD).toBe(vectors.maxPayload);
  expect(INITIAL_WINDOW).toBe(vectors.initialWindow);
});

describe.each(vectors.frames)("frame $name", (v) => {
  test("encodes to the golden bytes", () => {
    const payload = Buffer.from(v.payloadHex, "hex");
    expect(encodeFrame(v.type, v.stream, payload).toString("hex")).toBe(v.hex);
    if (v.type === FrameType.Data && v.channel !== undefined && v.dataHex !== undefined) {
      expect(encodeData(v.stream, v.channel, Buffer.from(v.dataHex, "hex")).toString("hex")).toBe(
        v.hex,
      );
    }
    if (v.type === FrameType.Eof && v.channel !== undefined) {
      expect(encodeEof(v.stream, v.channel).toString("hex")).toBe(v.hex);
    }
    if (v.type === FrameType.Window && v.channel !== undefined && v.increment !== undefined) {
      expect(encodeWindow(v.stream, v.channel, v.increment).toString("hex")).toBe(v.hex);
    }
  });

  test("decodes back to the same frame", () => {
    const decoder = new FrameDecoder();
    const frames = decoder.push(Buffer.concat([SYNC, Buffer.from(v.hex, "hex")]));
    expect(frames.map(plain)).toEqual([
      { type: v.type, stream: v.stream, payloadHex: v.payloadHex },
    ]);
    const [frame] = frames;
    if (frame && v.channel !== undefined) expect(channelOf(frame)).toBe(v.channel);
    if (frame && v.increment !== undefined) expect(windowIncrement(frame)).toBe(v.increment);
  });
});

describe.each(vectors.streams)("stream $name", (v) => {
  test("decodes in one chunk", () => {
    const decoder = new FrameDecoder();
    expect(decoder.push(Buffer.from(v.inputHex, "hex")).map(plain)).toEqual(v.frames);
    expect(decoder.framingErrors).toBe(v.framingErrors);
  });
});

describe.each(vectors.streams.filter((v) => v.splitEveryByte))("stream $name", (v) => {
  test("decodes one byte at a time", () => {
    const input = Buffer.from(v.inputHex, "hex");
    const decoder = new FrameDecoder();
    const frames = [];
    for (let i = 0; i < input.length; i++) frames.push(...decoder.push(input.subarray(i, i + 1)));
    expect(frames.map(plain)).toEqual(v.frames);
    expect(decoder.framingErrors).toBe(v.framingErrors);
  });
});

test("a frame with exactly MaxPayload bytes is accepted, one more is refused", () => {
  const payload = Buffer.alloc(MAX_PAYLOAD, 0x61);
  const decoder = new FrameDecoder();
  const frames = decoder.push(Buffer.concat([SYNC, encodeFrame(FrameType.Data, 1, payload)]));
  expect(frames).toHaveLength(1);
  expect(frames[0]?.payload.length).toBe(MAX_PAYLOAD);
  expect(() => encodeFrame(FrameType.Data, 1, Buffer.alloc(MAX_PAYLOAD + 1))).toThrow(RangeError);
});
