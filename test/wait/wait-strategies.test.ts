// Each wait strategy against a real nginx, both ways: ready, and a timeout
// whose message names what was awaited.
import { afterAll, beforeAll, expect, test } from "vitest";
import { Image, type Vm, wait } from "../../src/index.js";
import { testImageLayout } from "../support/test-images.js";

let nginx: Vm;

beforeAll(async () => {
  const image = await Image.pull(`oci:${await testImageLayout("nginx")}`);
  nginx = await image.start({ ports: [] });
});

afterAll(() => nginx?.stop());

test("forPort, forHttp and forExec resolve once nginx serves", async () => {
  await wait.forPort(80).waitUntilReady(nginx);
  await wait.forHttp("/", { port: 80 }).waitUntilReady(nginx);
  await wait.forExec(["test", "-s", "/run/nginx.pid"]).waitUntilReady(nginx);
  await wait.forAll([wait.forPort(80), wait.forHttp("/", { port: 80 })]).waitUntilReady(nginx);
});

test("a timeout is WAIT_TIMEOUT naming what was awaited and the last complaint", async () => {
  const cases = [
    [wait.forPort(81, { timeoutMs: 800 }), /guest port 81 accepts connections/],
    [wait.forHttp("/missing", { port: 80, timeoutMs: 800 }), /GET \/missing .* 200 \(status 404\)/],
    [wait.forExec(["false"], { timeoutMs: 800 }), /`false` succeeds \(exit code 1\)/],
    [wait.forLog("never printed", 1, { timeoutMs: 800 }), /matched \/never printed\/ 1 time/],
  ] as const;
  for (const [strategy, message] of cases) {
    await expect(strategy.waitUntilReady(nginx)).rejects.toMatchObject({
      code: "WAIT_TIMEOUT",
      message: expect.stringMatching(message),
    });
  }
});

test("forLog counts matching lines, also across lines written later", async () => {
  const image = await Image.pull(`oci:${await testImageLayout("busybox")}`);
  const script = "echo starting; echo ready once; sleep 1; echo ready twice; exec sleep 3600";
  await using vm = await image.start({ command: ["sh", "-c", script] });
  await wait.forLog(/^ready/, 2, { timeoutMs: 30_000 }).waitUntilReady(vm);
  await expect(
    wait.forLog("ready", 3, { timeoutMs: 800 }).waitUntilReady(vm),
  ).rejects.toMatchObject({
    message: expect.stringMatching(/3 time\(s\) \(seen 2\)[\s\S]*ready twice/),
  });
});

test("a workload that exits fails the wait at once, with its last output", async () => {
  const image = await Image.pull(`oci:${await testImageLayout("busybox")}`);
  await using vm = await image.start({ command: ["sh", "-c", "echo config is wrong; exit 3"] });
  const started = Date.now();
  await expect(wait.forPort(5432).waitUntilReady(vm)).rejects.toMatchObject({
    code: "WAIT_TIMEOUT",
    message: expect.stringMatching(
      /exited \(code 3\) before guest port 5432[\s\S]*config is wrong/,
    ),
  });
  expect(Date.now() - started).toBeLessThan(30_000); // long before the 60 s default
});
