import { expect, test } from "vitest";
import { resolveBootOptions } from "../../src/boot-options.js";
import { execRequest } from "../../src/exec-options.js";
import { SupermachineError } from "../../src/index.js";

test("boot options have defaults", () => {
  expect(resolveBootOptions({})).toMatchObject({
    memoryMib: 256,
    vcpus: 1,
    graceSeconds: 30,
    hostname: "supermachine",
    kernelArgs: [],
  });
});

test.each([
  [{ memoryMib: 16 }, /`memoryMib` must be an integer of at least 64, received 16 \(number\)/],
  [{ vcpus: 1.5 }, /`vcpus` must be an integer of at least 1, received 1.5 \(number\)/],
  [{ accel: "xen" }, /`accel` must be one of kvm, hvf, whpx, tcg, received "xen" \(string\)/],
  [{ hostname: "no spaces" }, /`hostname` must be a hostname label/],
  [{ kernelArgs: [""] }, /`kernelArgs` must be an array of non-empty strings/],
])("bad boot option %o is an INVALID_ARGUMENT error", (options, message) => {
  const attempt = () => resolveBootOptions(options as never);
  expect(attempt).toThrow(SupermachineError);
  expect(attempt).toThrow(message);
});

test("exec requests merge env over a default PATH and default to root in /", () => {
  expect(execRequest(["ls"], { env: { A: "1" } })).toEqual({
    op: "exec",
    argv: ["ls"],
    env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "A=1"],
    cwd: "/",
    tty: null,
    timeoutMs: 0,
  });
  expect(execRequest(["sh"], { tty: true }).tty).toEqual({ rows: 24, cols: 80 });
  expect(execRequest(["id"], { user: "nobody" })).toMatchObject({ user: "nobody" });
  expect(execRequest(["id"], { uid: 5, gid: 6 })).toMatchObject({ uid: 5, gid: 6 });
});

test.each([
  [[], {}, /`argv` must be a non-empty array of strings, received \[\] \(array\)/],
  [["ls"], { timeoutMs: -1 }, /`timeoutMs` must be a positive integer/],
  [["ls"], { uid: "root" }, /`uid` must be a non-negative integer, received "root" \(string\)/],
  [["ls"], { env: { "A=B": "x" } }, /`env.A=B`/],
  [["ls"], { user: "nobody", uid: 0 }, /`user` must be left out when `uid` or `gid` is given/],
])("bad exec input %o %o is rejected", (argv, options, message) => {
  expect(() => execRequest(argv, options as never)).toThrow(message);
});
