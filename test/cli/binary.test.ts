// The real binary on command lines that need no VM: help, usage errors, and
// failures that must be one clear line with a non-zero exit code.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { COMMANDS } from "../../src/cli/cli.js";
import { testImageLayout } from "../support/test-images.js";
import { runCli, stateDir } from "./support/cli.js";

let state: Awaited<ReturnType<typeof stateDir>>;
let env: Record<string, string>;
beforeAll(async () => {
  state = await stateDir();
  env = { SUPERMACHINE_STATE_DIR: state.path };
});
afterAll(() => state?.remove());

/** stderr as lines, without the empty one after the last newline. */
function lines(text: string): string[] {
  return text.split("\n").filter((line) => line !== "");
}

test("--help lists every command and the exit codes; each command has its own help", async () => {
  const main = await runCli(["--help"], env);
  expect(main.code).toBe(0);
  for (const command of COMMANDS) expect(main.stdout).toMatch(new RegExp(`\\n  ${command.name} `));
  expect(main.stdout).toMatch(/Exit codes:[\s\S]*125/);

  for (const command of COMMANDS) {
    const help = await runCli([command.name, "--help"], env);
    expect(help.code, command.name).toBe(0);
    expect(help.stdout).toContain(`Usage: supermachine ${command.usage}`);
    expect(help.stdout).toMatch(/Options:\n[\s\S]*--help/);
    expect(help.stdout).toMatch(/Examples:\n {2}supermachine /);
  }
});

test("no command prints the help and exits 2", async () => {
  const result = await runCli([], env);
  expect(result.code).toBe(2);
  expect(result.stdout).toContain("Usage: supermachine COMMAND");
});

test("an unknown command is one line naming the commands, exit 2", async () => {
  const result = await runCli(["frobnicate"], env);
  expect(result.code).toBe(2);
  expect(lines(result.stderr)).toEqual([
    expect.stringMatching(/^supermachine: unknown command `frobnicate`; the commands are pull, /),
  ]);
  expect(result.stdout).toBe("");
});

test("an unknown option is one line, exit 2", async () => {
  const result = await runCli(["ps", "--all"], env);
  expect(result.code).toBe(2);
  expect(lines(result.stderr)).toEqual([
    "supermachine: unknown option `--all` (see `supermachine ps --help`)",
  ]);
});

test("a bad image reference is one line saying what is wrong, exit 125", async () => {
  const result = await runCli(["pull", "Not/A Valid::Ref"], env);
  expect(result.code).toBe(125);
  const [line, ...more] = lines(result.stderr);
  expect(more).toEqual([]);
  expect(line).toMatch(/^supermachine: .*Not\/A Valid::Ref/);
});

test("missing QEMU is one line with the fix, exit 125, and leaves no VM entry", async () => {
  const layout = await testImageLayout("busybox");
  const image = `oci:${layout}`;
  // A PATH with node on it and no QEMU (which sits beside node in /usr/bin).
  const bin = join(state.path, "bin");
  await mkdir(bin);
  await symlink(process.execPath, join(bin, "node"));
  const onlyNode = { ...env, PATH: bin, SUPERMACHINE_ACCEL: "tcg" };
  const notOnPath = await runCli(["run", "--rm", image, "--", "true"], onlyNode);
  expect(notOnPath.code).toBe(125);
  const [line, ...more] = lines(notOnPath.stderr).filter((l) => l.startsWith("supermachine:"));
  expect(more).toEqual([]);
  expect(line).toMatch(/qemu-system-x86_64 was not found on PATH\. .*apt-get install/);

  const wrongPath = await runCli(["run", "--rm", image, "--", "true"], {
    ...env,
    SUPERMACHINE_QEMU: "/nonexistent/qemu-system-x86_64",
    SUPERMACHINE_ACCEL: "tcg",
  });
  expect(wrongPath.code).toBe(125);
  expect(wrongPath.stderr).toMatch(
    /supermachine: \/nonexistent\/qemu-system-x86_64 does not exist\. Point SUPERMACHINE_QEMU/,
  );

  const ps = await runCli(["ps", "--json"], env);
  expect(JSON.parse(ps.stdout)).toEqual([]);
});

test("a VM id nobody runs is one line pointing at ps, exit 125", async () => {
  for (const args of [
    ["exec", "0123456789ab", "--", "true"],
    ["logs", "0123"],
    ["stop", "99"],
  ]) {
    const result = await runCli(args, env);
    expect(result.code, args[0]).toBe(125);
    expect(lines(result.stderr)).toEqual([
      expect.stringMatching(/^supermachine: No running VM has the id \w+\. `supermachine ps`/),
    ]);
  }
});

test("exec without a command after -- is a usage error", async () => {
  const result = await runCli(["exec", "abc"], env);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain("missing the command after `--`");
});

test("bake refuses two wait options at once and a bad regular expression", async () => {
  const both = await runCli(
    ["bake", "redis", "--name", "r", "--wait-port", "1", "--wait-log", "x"],
    env,
  );
  expect(both.code).toBe(2);
  expect(both.stderr).toContain("choose one of --wait-port, --wait-log and --wait-exec");
  const regex = await runCli(["bake", "redis", "--name", "r", "--wait-log", "("], env);
  expect(regex.code).toBe(2);
  expect(regex.stderr).toContain("`--wait-log` is not a valid regular expression");
  const name = await runCli(["bake", "redis", "--name", "../x"], env);
  expect(name.code).toBe(2);
  expect(name.stderr).toContain("`--name` takes letters, digits");
});

test("run refuses a malformed -p before anything starts", async () => {
  const result = await runCli(["run", "-p", "80:99999", "nginx"], env);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain(
    '`--publish` takes HOST:GUEST or GUEST port numbers, received "80:99999"',
  );
});

test("--version prints the package's version", async () => {
  const result = await runCli(["--version"], env);
  expect(result.code).toBe(0);
  expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
});

test("listings are empty JSON arrays on an empty state directory", async () => {
  const ps = await runCli(["ps", "--json"], env);
  expect(ps.code).toBe(0);
  expect(JSON.parse(ps.stdout)).toEqual([]);
  const quiet = await runCli(["ps", "-q"], env);
  expect(quiet.stdout).toBe("");
});

test("ps drops the entry of a VM whose owner process is gone", async () => {
  const dead = spawnSync("true").pid;
  const dir = join(state.path, "vms", "0badc0ffee00");
  await mkdir(dir, { recursive: true });
  const record = {
    id: "0badc0ffee00",
    pid: dead,
    qemuPid: null,
    source: "redis",
    kind: "image",
    image: "docker.io/library/redis:latest",
    ports: [],
    command: null,
    detached: true,
    removeOnExit: false,
    status: "running",
    exit: null,
    createdAt: new Date().toISOString(),
  };
  await writeFile(join(dir, "state.json"), JSON.stringify(record));
  const result = await runCli(["ps", "--json"], env);
  expect(JSON.parse(result.stdout)).toEqual([]);
  expect(existsSync(dir)).toBe(false);
});
