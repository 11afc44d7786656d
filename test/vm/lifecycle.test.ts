import { execFile, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { expect, test } from "vitest";
import { SupermachineError, Vm } from "../../src/index.js";
import { sweepStaleRunDirs } from "../../src/util/run-dir.js";

const fixture = join(import.meta.dirname, "..", "fixtures", "boot-and-wait.ts");

test("stop() ends QEMU and removes the socket directory; later calls fail with VM_STOPPED", async () => {
  const vm = await Vm.boot();
  const pid = vm.pid;
  await vm.stop();
  expect(isRunning(pid)).toBe(false);
  await vm.stop(); // idempotent
  await expect(vm.exec(["true"])).rejects.toMatchObject({ code: "VM_STOPPED" });
});

test("await using stops the VM at the end of the block", async () => {
  let pid = 0;
  {
    await using vm = await Vm.boot();
    pid = vm.pid;
    expect(isRunning(pid)).toBe(true);
  }
  expect(isRunning(pid)).toBe(false);
});

test("a boot that times out leaves no process or temp directory behind", async () => {
  const before = new Set(socketDirs());
  const error = await Vm.boot({ bootTimeoutMs: 50 }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(SupermachineError);
  expect((error as SupermachineError).code).toBe("BOOT_TIMEOUT");
  expect((error as Error).message).toMatch(/within 50 ms.*bootTimeoutMs/s);
  expect(socketDirs().filter((dir) => !before.has(dir))).toEqual([]);
});

test("a missing QEMU is QEMU_NOT_FOUND with an install hint", async () => {
  const saved = process.env.SUPERMACHINE_QEMU;
  process.env.SUPERMACHINE_QEMU = "/nonexistent/qemu-system-x86_64";
  try {
    await expect(Vm.boot()).rejects.toMatchObject({
      code: "QEMU_NOT_FOUND",
      message: expect.stringMatching(/does not exist\. Point SUPERMACHINE_QEMU at/),
    });
  } finally {
    if (saved === undefined) delete process.env.SUPERMACHINE_QEMU;
    else process.env.SUPERMACHINE_QEMU = saved;
  }
});

test("killing the host process with SIGKILL leaves no QEMU behind", async () => {
  const graceSeconds = 10;
  const child = spawn(process.execPath, ["--import", "tsx", fixture, String(graceSeconds)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const qemuPid = await new Promise<number>((resolve, reject) => {
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /qemu-pid (\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    child.once("exit", (code) => reject(new Error(`fixture exited early with ${code}`)));
  });
  expect(isRunning(qemuPid)).toBe(true);

  const childPid = child.pid ?? 0;
  expect(runDirsOwnedBy(childPid)).toHaveLength(1);

  child.kill("SIGKILL");
  const deadline = Date.now() + graceSeconds * 1000 + 5_000;
  while (isRunning(qemuPid) && Date.now() < deadline) await sleep(50);
  expect(isRunning(qemuPid)).toBe(false);

  // Its sockets are left behind until the next process that starts a VM
  // sweeps directories whose owner is gone.
  if (child.exitCode === null && child.signalCode === null) {
    await new Promise((resolve) => child.once("exit", resolve));
  }
  await sweepStaleRunDirs();
  expect(runDirsOwnedBy(childPid)).toEqual([]);
});

function runDirsOwnedBy(pid: number): string[] {
  return socketDirs().filter((name) => {
    try {
      return readFileSync(join(tmpdir(), name, "owner.pid"), "utf8").trim() === String(pid);
    } catch {
      return false; // not a run directory (or removed meanwhile)
    }
  });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers signal 0, but it has exited all the same.
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false; // gone between the two checks
  }
}

function socketDirs(): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith("sm-"));
}

test("a process that exits without stopping its VM leaves no QEMU or run directory", async () => {
  const exiting = join(import.meta.dirname, "..", "fixtures", "boot-and-exit.ts");
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", exiting]);
  const { pid, dir } = JSON.parse(stdout.trim());
  expect(isRunning(pid)).toBe(false);
  expect(existsSync(dir)).toBe(false);
});
