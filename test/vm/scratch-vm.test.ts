import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { INITIAL_WINDOW } from "../../src/agent/frame.js";
import { SupermachineError, Vm } from "../../src/index.js";
import { eventually } from "../support/eventually.js";

// One VM for the whole file: every behaviour below needs a real guest, but
// not a fresh one.
let vm: Vm;
beforeAll(async () => {
  vm = await Vm.boot({ memoryMib: 512 });
});
afterAll(async () => {
  await vm?.stop();
});

describe("exec", () => {
  test("returns stdout, exit code and measurements", async () => {
    const out = await vm.exec(["sh", "-c", "echo hi; id -u"], { timeoutMs: 10_000 });
    expect(out).toMatchObject({ exitCode: 0, signal: null, stdout: "hi\n0\n", timedOut: false });
    expect(out.durationMs).toBeGreaterThan(0);
    expect(out.peakRssKib).toBeGreaterThan(0);
  });

  test("returns stderr and a failing exit code", async () => {
    const out = await vm.exec(["sh", "-c", "echo oops >&2; exit 1"]);
    expect(out).toMatchObject({ exitCode: 1, stdout: "", stderr: "oops\n" });
  });

  test("a missing program exits 127 like a shell", async () => {
    const direct = await vm.exec(["/no/such/program"]);
    expect(direct.exitCode).toBe(127);
    expect(direct.stderr).toContain("/no/such/program");
    const viaShell = await vm.exec(["sh", "-c", "no-such-program"]);
    expect(viaShell.exitCode).toBe(127);
  });

  test("a process killed by a signal reports the signal", async () => {
    const out = await vm.exec(["sh", "-c", "kill -TERM $$"]);
    expect(out).toMatchObject({ exitCode: null, signal: "SIGTERM" });
  });

  test("env, cwd and uid/gid are applied", async () => {
    const out = await vm.exec(["sh", "-c", 'echo "$GREETING $(pwd) $(id -u):$(id -g)"'], {
      env: { GREETING: "hello" },
      cwd: "/tmp",
      uid: 65534,
      gid: 65534,
    });
    expect(out.stdout).toBe("hello /tmp 65534:65534\n");
  });

  test("processes get the open-file limit Docker gives containers", async () => {
    const out = await vm.exec(["sh", "-c", "ulimit -n; ulimit -Hn"]);
    expect(out.stdout).toBe("1048576\n1048576\n");
  });

  test("input is fed to stdin", async () => {
    const out = await vm.exec(["wc", "-c"], { input: "12345" });
    expect(out.stdout.trim()).toBe("5");
  });

  test("timeoutMs kills the whole process group and reports timedOut", async () => {
    const out = await vm.exec(["sh", "-c", "sleep 1000 & sleep 1000"], { timeoutMs: 1_000 });
    expect(out.timedOut).toBe(true);
    expect(out.signal).toBe("SIGKILL");
    // The background sleep was in the same group, so it is gone too.
    const ps = await vm.exec(["ps", "-o", "pid,args"]);
    expect(ps.stdout).not.toContain("sleep 1000");
  });

  test("a tty makes the process see a terminal", async () => {
    const out = await vm.exec(["sh", "-c", "tty; stty size"], { tty: { rows: 30, cols: 100 } });
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toMatch(/^\/dev\/pts\/\d+\r?\n30 100/);
  });
});

describe("spawn", () => {
  test("cat echoes 10 MB unchanged while another exec runs", async () => {
    const data = randomBytes(10 * 1024 * 1024);
    const cat = vm.spawn(["cat"]);
    const chunks: Buffer[] = [];
    cat.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    cat.stdin.end(data);
    const other = vm.exec(["sh", "-c", "for i in 1 2 3 4 5; do echo $i; done"]);

    expect((await other).stdout).toBe("1\n2\n3\n4\n5\n");
    const status = await cat.wait();
    expect(status.exitCode).toBe(0);
    const echoed = Buffer.concat(chunks);
    expect(echoed.length).toBe(data.length);
    expect(echoed.equals(data)).toBe(true);
  });

  test("output nobody reads stalls only its own stream", async () => {
    const noisy = vm.spawn(["yes"], { stdin: false });
    // The agent sends until the window is used up, then waits for credit.
    await expect.poll(() => noisy.stdout.readableLength, { timeout: 20_000 }).toBe(INITIAL_WINDOW);

    const other = await vm.exec(["echo", "still moving"]);
    expect(other.stdout).toBe("still moving\n");
    expect(noisy.stdout.readableLength).toBe(INITIAL_WINDOW);

    await noisy.kill("SIGKILL");
    noisy.stdout.resume();
    expect((await noisy.wait()).signal).toBe("SIGKILL");
  });

  test("kill sends a signal to a running process", async () => {
    const sleeper = vm.spawn(["sleep", "1000"], { stdin: false });
    expect(await sleeper.pid).toBeGreaterThan(1);
    await sleeper.kill("SIGINT");
    expect((await sleeper.wait()).signal).toBe("SIGINT");
  });
});

describe("files", () => {
  test("writeFile then readFile round-trips 100 MB with mode and owner", async () => {
    const data = randomBytes(100 * 1024 * 1024);
    await vm.writeFile("/tmp/big.bin", data, { mode: 0o640, uid: 1000, gid: 2000 });
    const stat = await vm.exec(["stat", "-c", "%a %u %g %s", "/tmp/big.bin"]);
    expect(stat.stdout.trim()).toBe(`640 1000 2000 ${data.length}`);
    const back = await vm.readFile("/tmp/big.bin");
    expect(back.length).toBe(data.length);
    expect(back.equals(data)).toBe(true);
    await vm.exec(["rm", "/tmp/big.bin"]);
  });

  test("readFile of a missing file is a GUEST_ERROR with ENOENT", async () => {
    const error = await vm.readFile("/nope").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SupermachineError);
    expect(error).toMatchObject({ code: "GUEST_ERROR", guestCode: "ENOENT" });
  });

  test("writeFile with mkdirs creates parents; text reads back as text", async () => {
    await vm.writeFile("/tmp/a/b/c.txt", "hello\n", { mkdirs: true });
    expect(await vm.readFile("/tmp/a/b/c.txt", "utf8")).toBe("hello\n");
  });
});

describe("tcp", () => {
  beforeAll(async () => {
    await vm.writeFile("/srv/www/index.html", "served from the guest\n", { mkdirs: true });
    vm.spawn(["httpd", "-f", "-p", "8080", "-h", "/srv/www"], { stdin: false });
    await eventually(async () => {
      const socket = await vm.connect(8080);
      socket.destroy();
    });
  });

  test("connect() reaches a server in the guest", async () => {
    const socket = await vm.connect(8080);
    socket.end("GET /index.html HTTP/1.0\r\n\r\n");
    const chunks: Buffer[] = [];
    for await (const chunk of socket) chunks.push(chunk as Buffer);
    const response = Buffer.concat(chunks).toString();
    expect(response).toMatch(/^HTTP\/1\.[01] 200/);
    expect(response).toContain("served from the guest");
  });

  test("connect() to a closed port is a GUEST_ERROR with ECONNREFUSED", async () => {
    await expect(vm.connect(9)).rejects.toMatchObject({ guestCode: "ECONNREFUSED" });
  });

  test("exposeTcp() serves the guest port on 127.0.0.1", async () => {
    const exposed = await vm.exposeTcp(8080);
    try {
      expect(exposed.host).toBe("127.0.0.1");
      expect(vm.port(8080)).toBe(exposed.port);
      expect(() => vm.port(5432)).toThrow(/Guest port 5432 is not exposed \(exposed: 8080\)/);
      const response = await fetch(`http://127.0.0.1:${exposed.port}/index.html`);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("served from the guest\n");
      // A raw socket too, several at once.
      const replies = await Promise.all([1, 2, 3].map(() => rawGet(exposed.port)));
      for (const reply of replies) expect(reply).toContain("served from the guest");
    } finally {
      await exposed.close();
    }
  });
});

test("the guest clock is within 2 s of the host's", async () => {
  const out = await vm.exec(["date", "+%s"]);
  expect(Math.abs(Number(out.stdout.trim()) - Date.now() / 1000)).toBeLessThan(2);
});

test("bad arguments are INVALID_ARGUMENT errors naming the option", async () => {
  expect(() => vm.spawn([])).toThrow(/`argv` must be a non-empty array/);
  await expect(vm.readFile("relative")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  await expect(vm.exposeTcp(70000)).rejects.toThrow(/`guestPort`.*70000 \(number\)/);
});

async function rawGet(port: number): Promise<string> {
  const socket = connect(port, "127.0.0.1");
  socket.end("GET /index.html HTTP/1.0\r\n\r\n");
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}
