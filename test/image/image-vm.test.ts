// Images pulled from a real registry on loopback and run in microVMs: the
// root filesystem comes from the layers, the workload from the config.
import { afterAll, beforeAll, expect, test } from "vitest";
import { hostGuestArch } from "../../src/engine/guest-arch.js";
import { Image } from "../../src/image/image.js";
import type { Vm } from "../../src/index.js";
import { registryWith, type TestRegistry } from "../support/test-images.js";

let registry: TestRegistry;
beforeAll(async () => {
  registry = await registryWith(["busybox", "layered", "multiarch"]);
});
afterAll(() => registry?.stop());

async function text(stream: AsyncIterable<unknown>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

test("a pulled image runs its command as the workload, with logs and an exit code", async () => {
  const image = await Image.pull(registry.ref("busybox"));
  await using vm = await image.start({
    command: ["sh", "-c", "echo started; echo oops >&2; exit 3"],
  });
  expect(await vm.workload.exited).toEqual({ exitCode: 3, signal: null });
  const logs = await text(vm.logs());
  expect(logs).toContain("started\n");
  expect(logs).toContain("oops\n");
});

test("logs() keeps what the workload printed; `since` filters by time", async () => {
  const image = await Image.pull(registry.ref("busybox"));
  await using vm = await image.start({ command: ["sh", "-c", "echo early; sleep 1000"] });
  await expect.poll(() => text(vm.logs()), { timeout: 20_000 }).toBe("early\n");
  expect(await text(vm.logs({ since: new Date(Date.now() + 3_600_000) }))).toBe("");
  expect(await text(vm.logs({ since: new Date(0) }))).toBe("early\n");
});

test("logs({ follow: true }) streams new output as it is written", async () => {
  const image = await Image.pull(registry.ref("busybox"));
  const script = "echo first; sleep 1; echo second; sleep 1000";
  await using vm = await image.start({ command: ["sh", "-c", script] });
  const logs = vm.logs({ follow: true });
  let seen = "";
  for await (const chunk of logs) {
    seen += String(chunk);
    if (seen.includes("second\n")) break; // leaving the loop destroys the stream
  }
  expect(seen).toBe("first\nsecond\n");
  // The VM is still usable after a follower went away.
  expect((await vm.exec(["echo", "ok"])).stdout).toBe("ok\n");
});

test("the layered image has whiteouts, opaque directories, links and ownership applied", async () => {
  const image = await Image.pull(registry.ref("layered"));
  await using vm = await image.start({ command: ["sleep", "1000"] });
  const check = (script: string) => vm.exec(["sh", "-c", script]).then((out) => out.stdout);

  expect(await check("ls -A /data")).toBe("hardlink-a\nhardlink-b\nkeep\nprivate\nsymlink\n");
  expect(await check("ls -A /opq")).toBe("new\n");
  expect(await check("cat /data/keep /opq/new")).toBe("keep\nnew\n");
  expect(await check("readlink /data/symlink; cat /data/symlink")).toBe("/data/keep\nkeep\n");
  expect(await check("stat -c '%i %h' /data/hardlink-a /data/hardlink-b | uniq | wc -l")).toBe(
    "1\n",
  );
  expect(await check("stat -c '%a %u:%g %Y' /data/private")).toBe("600 1000:1000 1234567890\n");
});

test("User and WorkingDir from the image config apply to the workload, as docker run does", async () => {
  const image = await Image.pull(registry.ref("layered"));
  await using vm = await image.start({ command: ["sh", "-c", "id -u; pwd"] });
  expect(await vm.workload.exited).toMatchObject({ exitCode: 0 });
  expect(await text(vm.logs())).toBe("65534\n/data\n");
});

test("exec defaults to the image's User and WorkingDir, as docker exec does", async () => {
  const image = await Image.pull(registry.ref("layered"));
  await using vm = await image.start({ command: ["sleep", "1000"] });
  expect((await vm.exec(["sh", "-c", "id -u; pwd"])).stdout).toBe("65534\n/data\n");
  const asRoot = await vm.exec(["sh", "-c", "id -u; pwd"], { user: "root", cwd: "/" });
  expect(asRoot.stdout).toBe("0\n/\n");
  await expect(vm.exec(["true"], { user: "nosuchuser" })).rejects.toMatchObject({
    guestCode: "ENOENT",
  });
});

test("the guest has /etc/hosts with localhost and its hostname, and a resolv.conf", async () => {
  const image = await Image.pull(registry.ref("busybox"));
  await using vm = await image.start({ command: ["sleep", "1000"], hostname: "cache-1" });
  const hosts = await vm.readFile("/etc/hosts", "utf8");
  expect(hosts).toMatch(/^127\.0\.0\.1\s+localhost$/m);
  expect(hosts).toMatch(/\scache-1$/m);
  expect((await vm.exec(["test", "-f", "/etc/resolv.conf"])).exitCode).toBe(0);
  expect((await vm.exec(["hostname"])).stdout).toBe("cache-1\n");
});

test("a multi-arch index resolves to this host's architecture", async () => {
  const image = await Image.pull(registry.ref("multiarch"));
  const expected = hostGuestArch() === "x86_64" ? "amd64" : "arm64";
  expect(image.config.architecture).toBe(expected);
  await using vm = await image.start({ command: ["sleep", "1000"] });
  const machine = (await vm.exec(["uname", "-m"])).stdout.trim();
  expect(machine).toBe(hostGuestArch() === "x86_64" ? "x86_64" : "aarch64");
});

test("stopping the workload reports the signal; stop() removes the VM", async () => {
  const image = await Image.pull(registry.ref("busybox"));
  const vm: Vm = await image.start({ command: ["sleep", "1000"] });
  expect(await vm.workload.stop("SIGTERM", 5_000)).toEqual({ exitCode: null, signal: "SIGTERM" });
  await vm.stop();
  await expect(vm.exec(["true"])).rejects.toMatchObject({ code: "VM_STOPPED" });
});
