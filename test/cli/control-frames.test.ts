// The control socket's framing (docs/cli.md), over a real socket pair.
import { once } from "node:events";
import { connect, createServer, type Socket } from "node:net";
import { expect, test } from "vitest";
import {
  controlFrame,
  encodeFrame,
  FrameDecoder,
  FrameType,
  readJsonLine,
  writeJsonLine,
} from "../../src/cli/control/frames.js";

test("frames come out whole however the bytes were split", () => {
  const bytes = Buffer.concat([
    encodeFrame(FrameType.stdout, "hello"),
    encodeFrame(FrameType.stdin, Buffer.alloc(0)),
    controlFrame({ exit: { exitCode: 3, signal: null } }),
  ]);
  for (const size of [1, 2, 5, 7, bytes.length]) {
    const decoder = new FrameDecoder();
    const frames = [];
    for (let i = 0; i < bytes.length; i += size)
      frames.push(...decoder.push(bytes.subarray(i, i + size)));
    expect(frames.map((f) => [f.type, f.payload.toString()])).toEqual([
      [FrameType.stdout, "hello"],
      [FrameType.stdin, ""],
      [FrameType.control, '{"exit":{"exitCode":3,"signal":null}}'],
    ]);
  }
});

test("a frame claiming more than 4 MiB is refused", () => {
  const header = Buffer.from([FrameType.stdout, 0x01, 0x00, 0x00, 0x00]);
  expect(() => new FrameDecoder().push(header)).toThrow(/refused/);
});

async function socketPair(): Promise<[Socket, Socket, () => void]> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address() as { port: number };
  const client = connect(address.port, "127.0.0.1");
  const [accepted] = (await once(server, "connection")) as [Socket];
  await once(client, "connect").catch(() => undefined);
  return [client, accepted, () => server.close()];
}

test("a header line is read alone; the bytes after it stay for the next reader", async () => {
  const [client, accepted, close] = await socketPair();
  try {
    // The header and the first frame arrive in one write.
    client.write(
      Buffer.concat([Buffer.from('{"op":"exec"}\n'), encodeFrame(FrameType.stdin, "abc")]),
    );
    expect(await readJsonLine(accepted)).toEqual({ op: "exec" });
    const decoder = new FrameDecoder();
    accepted.resume();
    const [chunk] = (await once(accepted, "data")) as [Buffer];
    expect(decoder.push(chunk).map((f) => f.payload.toString())).toEqual(["abc"]);

    writeJsonLine(accepted, { ok: true });
    expect(await readJsonLine(client)).toEqual({ ok: true });
  } finally {
    client.destroy();
    accepted.destroy();
    close();
  }
});

test("a header that is not a JSON object, or a connection closed first, is an error", async () => {
  const [client, accepted, close] = await socketPair();
  try {
    client.write("[1,2]\n");
    await expect(readJsonLine(accepted)).rejects.toThrow(/bad control header: not an object/);
    const pending = readJsonLine(accepted);
    client.end();
    await expect(pending).rejects.toThrow(/closed before a header/);
  } finally {
    client.destroy();
    accepted.destroy();
    close();
  }
});
