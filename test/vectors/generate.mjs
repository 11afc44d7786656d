// Writes protocol.json: golden frames built by hand from docs/protocol.md,
// independently of the Go and TypeScript codecs that are tested against it.
// Usage: node test/vectors/generate.mjs > test/vectors/protocol.json
const SYNC = Buffer.from("ff534d53594e430a", "hex");
function frame(type, stream, payload) {
  const b = Buffer.alloc(9 + payload.length);
  b.writeUInt32BE(5 + payload.length, 0);
  b.writeUInt8(type, 4);
  b.writeUInt32BE(stream, 5);
  payload.copy(b, 9);
  return b;
}
const j = (s) => Buffer.from(s, "utf8");
const ch = (c, data = Buffer.alloc(0)) => Buffer.concat([Buffer.from([c]), data]);
const win = (c, inc) => {
  const b = Buffer.alloc(5);
  b.writeUInt8(c, 0);
  b.writeUInt32BE(inc, 1);
  return b;
};
const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const frames = [
  {
    name: "hello",
    type: 1,
    stream: 0,
    text: '{"version":1,"timeUnixNs":"1764780000123456789","entropy":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}',
  },
  {
    name: "hello_ack",
    type: 2,
    stream: 0,
    text: '{"version":1,"agent":"0.1.0","kernel":"6.1.0","arch":"x86_64","bootTimeUnixNs":"1764779999000000000","clockSetErr":"","entropyErr":""}',
  },
  {
    name: "open_exec",
    type: 3,
    stream: 1,
    text: '{"op":"exec","argv":["sh","-c","echo hi; id -u"],"stdin":false,"timeoutMs":10000}',
  },
  { name: "opened_pid", type: 4, stream: 1, text: '{"pid":42}' },
  { name: "data_stdout", type: 5, stream: 1, channel: 1, data: j("hi\n0\n") },
  { name: "data_stdin_all_bytes", type: 5, stream: 7, channel: 0, data: all },
  { name: "data_empty", type: 5, stream: 2, channel: 2, data: Buffer.alloc(0) },
  { name: "eof_stdout", type: 6, stream: 1, channel: 1 },
  { name: "window_stdin", type: 7, stream: 3, channel: 0, increment: 65536 },
  { name: "window_max", type: 7, stream: 4294967295, channel: 2, increment: 4294967295 },
  { name: "control_signal", type: 8, stream: 1, text: '{"signal":"SIGTERM"}' },
  {
    name: "result_exec",
    type: 9,
    stream: 1,
    text: '{"exitCode":0,"signal":null,"timedOut":false,"durationMs":12.5,"peakRssKib":1024}',
  },
  {
    name: "error_enoent",
    type: 10,
    stream: 5,
    text: '{"code":"ENOENT","message":"open /nope: no such file or directory"}',
  },
  { name: "cancel", type: 11, stream: 9, payload: Buffer.alloc(0) },
  { name: "unknown_type", type: 127, stream: 3, payload: Buffer.from("beef", "hex") },
];
const out = {
  sync: SYNC.toString("hex"),
  maxPayload: 1048576,
  initialWindow: 262144,
  frames: [],
  streams: [],
};
const built = {};
for (const f of frames) {
  let payload;
  if (f.text !== undefined) payload = j(f.text);
  else if (f.type === 5) payload = ch(f.channel, f.data);
  else if (f.type === 6) payload = ch(f.channel);
  else if (f.type === 7) payload = win(f.channel, f.increment);
  else payload = f.payload;
  const e = { name: f.name, type: f.type, stream: f.stream };
  if (f.text !== undefined) e.text = f.text;
  if (f.channel !== undefined) e.channel = f.channel;
  if (f.data !== undefined) e.dataHex = f.data.toString("hex");
  if (f.increment !== undefined) e.increment = f.increment;
  e.payloadHex = payload.toString("hex");
  const bin = frame(f.type, f.stream, payload);
  e.hex = bin.toString("hex");
  built[f.name] = { bin, e };
  out.frames.push(e);
}
const ref = (n) => ({
  type: built[n].e.type,
  stream: built[n].e.stream,
  payloadHex: built[n].e.payloadHex,
});
function stream(name, description, parts, expect, framingErrors, splits) {
  out.streams.push({
    name,
    description,
    inputHex: Buffer.concat(parts).toString("hex"),
    splitEveryByte: splits,
    frames: expect.map(ref),
    framingErrors,
  });
}
const B = (n) => built[n].bin;
stream(
  "sync_then_frames",
  "SYNC then two frames in one chunk",
  [SYNC, B("hello"), B("open_exec")],
  ["hello", "open_exec"],
  0,
  false,
);
stream(
  "garbage_before_sync",
  "bytes before the first SYNC are discarded, including a partial SYNC",
  [Buffer.from("0000ff534dff53", "hex"), Buffer.from("console noise\n"), SYNC, B("data_stdout")],
  ["data_stdout"],
  0,
  false,
);
stream(
  "split_every_byte",
  "the same frames delivered one byte per chunk",
  [SYNC, B("opened_pid"), B("data_stdin_all_bytes"), B("eof_stdout"), B("window_max")],
  ["opened_pid", "data_stdin_all_bytes", "eof_stdout", "window_max"],
  0,
  true,
);
stream(
  "no_sync_no_frames",
  "frames without a SYNC are never decoded",
  [B("hello"), B("cancel")],
  [],
  0,
  false,
);
stream(
  "resync_at_boundary",
  "a new SYNC where a length was expected is a framing error, then decoding resumes after it",
  [SYNC, B("result_exec"), SYNC, B("hello"), B("cancel")],
  ["result_exec", "hello", "cancel"],
  1,
  true,
);
const tooBig = Buffer.alloc(9);
tooBig.writeUInt32BE(5 + 1048577, 0);
tooBig.writeUInt8(5, 4);
const tooSmall = Buffer.from("0000000401000000", "hex");
stream(
  "length_too_large",
  "an oversized length is a framing error; bytes after it are rescanned for SYNC",
  [SYNC, tooBig, Buffer.from("junk"), SYNC, B("error_enoent")],
  ["error_enoent"],
  1,
  false,
);
stream(
  "length_too_small",
  "a length below 5 is a framing error",
  [SYNC, tooSmall, SYNC, B("data_empty"), B("unknown_type")],
  ["data_empty", "unknown_type"],
  1,
  false,
);
console.log(JSON.stringify(out, null, 2));
