// The host's reaction to specific frames from the agent. The peer here is a
// scripted socket that sends exact bytes, the way the golden vectors do; the
// real agent is exercised by the VM tests.
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, expect, test } from "vitest";
import { AgentClient } from "../../src/agent/agent-client.js";
import {
  encodeData,
  encodeJson,
  FrameDecoder,
  FrameType,
  INITIAL_WINDOW,
  SYNC,
} from "../../src/agent/frame.js";

let server: Server | undefined;
afterEach(() => server?.close());

/** A connected client and the raw peer socket, with frames the peer received. */
async function pair() {
  const peer = new Promise<Socket>((resolve) => {
    server = createServer(resolve);
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const address = server?.address();
  if (!address || typeof address === "string") throw new Error("no address");
  const { connect } = await import("node:net");
  const socket = connect(address.port, "127.0.0.1");
  const client = new AgentClient(socket);
  const remote = await peer;
  const decoder = new FrameDecoder();
  const received: { type: number; stream: number; body: string }[] = [];
  remote.on("data", (chunk: Buffer) => {
    for (const f of decoder.push(chunk)) {
      received.push({ type: f.type, stream: f.stream, body: f.payload.toString() });
    }
  });
  return { client, remote, received };
}

test("the handshake sends time and at least 32 bytes of entropy, then accepts the ack", async () => {
  const { client, remote, received } = await pair();
  const ack = { version: 1, agent: "t", kernel: "k", arch: "x86_64" };
  remote.write(Buffer.concat([Buffer.from("boot noise"), SYNC]));
  remote.on("data", () => remote.write(encodeJson(FrameType.HelloAck, 0, ack)));
  await expect(client.handshake()).resolves.toMatchObject(ack);
  const hello = JSON.parse(received[0]?.body ?? "{}");
  expect(received[0]?.type).toBe(FrameType.Hello);
  expect(hello.version).toBe(1);
  expect(Math.abs(Number(BigInt(hello.timeUnixNs) / 1_000_000n) - Date.now())).toBeLessThan(5_000);
  expect(Buffer.from(hello.entropy, "base64").length).toBeGreaterThanOrEqual(32);
  client.close();
});

test("a slow first handshake (a booting guest) is repeated so the clock it sets is fresh", async () => {
  const { client, remote, received } = await pair();
  const ack = { version: 1, agent: "t", kernel: "k", arch: "x86_64" };
  remote.write(SYNC);
  let answered = 0;
  remote.on("data", () => {
    // The first HELLO is answered late, as when it waited for the guest to boot.
    const delay = answered++ === 0 ? 300 : 0;
    setTimeout(() => remote.write(encodeJson(FrameType.HelloAck, 0, ack)), delay);
  });
  await client.handshake();
  expect(received.map((f) => f.type)).toEqual([FrameType.Hello, FrameType.Hello]);
  const [first, second] = received.map((f) => BigInt(JSON.parse(f.body).timeUnixNs) / 1_000_000n);
  expect(Number((second ?? 0n) - (first ?? 0n))).toBeGreaterThanOrEqual(250);
  client.close();
});

test("an agent with another protocol version is AGENT_PROTOCOL_MISMATCH", async () => {
  const { client, remote } = await pair();
  const done = client.handshake();
  remote.write(Buffer.concat([SYNC, encodeJson(FrameType.HelloAck, 0, { version: 99 })]));
  await expect(done).rejects.toMatchObject({
    code: "AGENT_PROTOCOL_MISMATCH",
    message: expect.stringMatching(/version 99.*npm run build:guest/),
  });
  client.close();
});

test("an agent that overruns the window is a protocol error that fails open streams", async () => {
  const { client, remote } = await pair();
  remote.write(SYNC);
  const stream = client.open({ op: "readFile", path: "/x" }, { inbound: [0], outbound: [] });
  const tooMuch = Buffer.alloc(64 * 1024);
  for (let sent = 0; sent <= INITIAL_WINDOW; sent += tooMuch.length) {
    remote.write(encodeData(stream.id, 0, tooMuch));
  }
  await expect(stream.result).rejects.toMatchObject({ code: "AGENT_PROTOCOL_ERROR" });
  expect(client.closed).toBe(true);
});

test("an ERROR frame rejects the stream with the guest's errno code", async () => {
  const { client, remote } = await pair();
  remote.write(SYNC);
  const stream = client.open({ op: "readFile", path: "/x" }, { inbound: [0], outbound: [] });
  remote.write(encodeJson(FrameType.Error, stream.id, { code: "ENOENT", message: "no /x" }));
  await expect(stream.opened).rejects.toMatchObject({ code: "GUEST_ERROR", guestCode: "ENOENT" });
  client.close();
});

test("a closed connection fails every open stream with AGENT_DISCONNECTED", async () => {
  const { client, remote } = await pair();
  const a = client.open({ op: "exec" }, { inbound: [1, 2], outbound: [0] });
  const b = client.open({ op: "exec" }, { inbound: [1, 2], outbound: [0] });
  remote.destroy();
  await expect(a.result).rejects.toMatchObject({ code: "AGENT_DISCONNECTED" });
  await expect(b.result).rejects.toMatchObject({ code: "AGENT_DISCONNECTED" });
});
