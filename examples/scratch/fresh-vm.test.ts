// Every test gets its own microVM: nothing one test does inside the guest can
// be seen by the next. The fixture boots before the test and stops the VM
// after it, even when the test fails.

import { Vm } from "supermachine";
import { test as base, describe, expect } from "vitest";

const test = base.extend<{ vm: Vm }>({
  // biome-ignore lint/correctness/noEmptyPattern: Vitest reads fixture deps from the pattern
  vm: async ({}, use) => {
    const vm = await Vm.boot();
    await use(vm);
    await vm.stop();
  },
});

describe.sequential("a fresh VM per test", () => {
  test("a test can change the guest freely", async ({ vm }) => {
    await vm.writeFile("/etc/motd", "changed by the first test\n");
    await vm.exec(["sh", "-c", "echo 127.0.0.1 evil.example >> /etc/hosts"]);
    expect(await vm.readFile("/etc/motd", "utf8")).toBe("changed by the first test\n");
  });

  test("the next test starts from a clean guest", async ({ vm }) => {
    const motd = await vm.exec(["cat", "/etc/motd"]);
    expect(motd.exitCode).not.toBe(0);
    const hosts = await vm.exec(["sh", "-c", "cat /etc/hosts 2>/dev/null || true"]);
    expect(hosts.stdout).not.toContain("evil.example");
  });
});

test("a script under test runs in the guest with its own files", async ({ vm }) => {
  await vm.writeFile("/app/count-words.sh", 'tr -s " " "\\n" < "$1" | grep -c .\n', {
    mode: 0o755,
    mkdirs: true,
  });
  await vm.writeFile("/app/input.txt", "the quick brown fox\n");
  const out = await vm.exec(["sh", "/app/count-words.sh", "/app/input.txt"]);
  expect(out).toMatchObject({ exitCode: 0, stdout: "4\n" });
});

test("a runaway process is stopped by the timeout", async ({ vm }) => {
  const out = await vm.exec(["sh", "-c", "while :; do :; done"], { timeoutMs: 500 });
  expect(out.timedOut).toBe(true);
});

test("a service in the guest is reachable from the host", async ({ vm }) => {
  await vm.writeFile("/www/index.html", "hello from a microVM\n", { mkdirs: true });
  vm.spawn(["httpd", "-f", "-p", "80", "-h", "/www"], { stdin: false });
  const web = await vm.exposeTcp(80);
  let response: Response | undefined;
  for (let attempt = 0; attempt < 100 && !response; attempt++) {
    response = await fetch(`http://${web.host}:${web.port}/`).catch(async () => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      return undefined;
    });
  }
  expect(response?.status).toBe(200);
  expect(await response?.text()).toBe("hello from a microVM\n");
});
