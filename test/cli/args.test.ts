// The CLI's command-line parsing and output formatting: pure logic, no VM.
import { PassThrough } from "node:stream";
import { expect, test } from "vitest";
import { envOption, integerOption, parseCommand, positionals } from "../../src/cli/args.js";
import { CliError, ExitCode, signalExitCode } from "../../src/cli/exit-codes.js";
import { formatAge, formatBytes, formatDuration } from "../../src/cli/output/format.js";
import { bar, cut, visibleLength } from "../../src/cli/output/live-line.js";
import { PullProgressView } from "../../src/cli/output/pull-progress.js";
import { Terminal } from "../../src/cli/output/terminal.js";

function usage(fn: () => unknown): CliError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(ExitCode.usage);
    return error as CliError;
  }
  throw new Error("expected a usage error");
}

test("arguments after -- are the guest command's, untouched", () => {
  const parsed = parseCommand("exec", ["-t", "abc", "--", "sh", "-c", "--help"], {
    tty: { type: "boolean", short: "t" },
  });
  expect(parsed.values.tty).toBe(true);
  expect(parsed.positionals).toEqual(["abc"]);
  expect(parsed.rest).toEqual(["sh", "-c", "--help"]);
});

test("an unknown option names the option and points at the command's help", () => {
  const error = usage(() => parseCommand("ps", ["--bogus"], { json: { type: "boolean" } }));
  expect(error.message).toBe("unknown option `--bogus` (see `supermachine ps --help`)");
});

test("an option missing its value says so", () => {
  const error = usage(() => parseCommand("bake", ["--name"], { name: { type: "string" } }));
  expect(error.message).toMatch(/^`--name` needs a value/);
});

test("missing and extra positionals are usage errors naming what is wrong", () => {
  expect(usage(() => positionals("exec", [], ["ID"])).message).toMatch(/^missing ID/);
  const extra = usage(() => positionals("exec", ["a", "ls"], ["ID"]));
  expect(extra.message).toMatch(/unexpected argument `ls`; a guest command goes after `--`/);
  expect(positionals("stop", ["a", "b"], ["ID"], { variadic: true })).toEqual(["a", "b"]);
});

test("integer options refuse fractions, signs and values below the minimum", () => {
  expect(integerOption("run", "memory", "512", 64)).toBe(512);
  expect(integerOption("run", "memory", undefined, 64)).toBeUndefined();
  for (const bad of ["1.5", "-3", "12abc", "32"]) {
    const error = usage(() => integerOption("run", "memory", bad, 64));
    expect(error.message).toContain(`received ${JSON.stringify(bad)}`);
    expect(error.message).toContain("`--memory` must be an integer of at least 64");
  }
});

test("--env takes KEY=VALUE, keeps '=' in values, and reads a bare KEY from here", () => {
  process.env.SM_TEST_FROM_HOST = "host value";
  expect(envOption("run", ["A=1", "B=x=y", "SM_TEST_FROM_HOST", "UNSET_HERE_XYZ"])).toEqual({
    A: "1",
    B: "x=y",
    SM_TEST_FROM_HOST: "host value",
  });
  expect(usage(() => envOption("run", ["1A=2"])).message).toContain('received "1A=2"');
});

test("a signal's exit code is 128 plus its number, as a shell reports it", () => {
  expect(signalExitCode("SIGINT")).toBe(130);
  expect(signalExitCode("SIGKILL")).toBe(137);
  expect(signalExitCode("SIGTERM")).toBe(143);
});

test("sizes, durations and ages read as docker prints them", () => {
  expect(formatBytes(0)).toBe("0 B");
  expect(formatBytes(999)).toBe("999 B");
  expect(formatBytes(12_345_678)).toBe("12.3 MB");
  expect(formatBytes(123_456_789)).toBe("123 MB");
  expect(formatDuration(850)).toBe("850 ms");
  expect(formatDuration(3_240)).toBe("3.2 s");
  expect(formatDuration(125_000)).toBe("2 min 5 s");
  const now = Date.parse("2026-12-04T12:00:00Z");
  expect(formatAge("2026-12-04T11:59:59Z", now)).toBe("1 second ago");
  expect(formatAge("2026-12-04T11:57:00Z", now)).toBe("3 minutes ago");
  expect(formatAge("2026-12-02T12:00:00Z", now)).toBe("2 days ago");
  expect(formatAge("2026-12-04T12:00:01Z", now)).toBe("just now");
});

function terminal(isTTY: boolean, env: NodeJS.ProcessEnv) {
  const stream = Object.assign(new PassThrough(), { isTTY, columns: 40 });
  return new Terminal(stream, env);
}

test("colour only on a terminal, and never with NO_COLOR or TERM=dumb", () => {
  expect(terminal(true, {}).paint("red", "x")).toBe("\x1b[31mx\x1b[39m");
  expect(terminal(false, {}).paint("red", "x")).toBe("x");
  expect(terminal(true, { NO_COLOR: "1" }).paint("red", "x")).toBe("x");
  expect(terminal(true, { TERM: "dumb" }).paint("red", "x")).toBe("x");
  // no-color.org: an empty NO_COLOR does not count.
  expect(terminal(true, { NO_COLOR: "" }).colours).toBe(true);
});

test("redrawn lines are cut by visible width, keeping colour escapes whole", () => {
  const coloured = "\x1b[32mdone\x1b[39m and more text";
  expect(visibleLength(coloured)).toBe(18);
  const short = cut(coloured, 6);
  expect(visibleLength(short)).toBe(6);
  expect(short).toBe("\x1b[32mdone\x1b[39m a");
  expect(bar(0.5, 10)).toBe("[=====>    ]");
  expect(bar(1, 4)).toBe("[====]");
  expect(bar(2, 4)).toBe("[====]");
});

function captured(isTTY: boolean) {
  const stream = Object.assign(new PassThrough(), { isTTY, columns: 100 });
  let text = "";
  stream.on("data", (chunk) => {
    text += chunk;
  });
  return { term: new Terminal(stream, {}), text: () => text };
}

test("pull progress: one plain line per finished layer off a terminal", () => {
  const { term, text } = captured(false);
  let now = 1_000;
  const view = new PullProgressView(term, () => now);
  const digest = `sha256:${"ab".repeat(32)}`;
  const other = `sha256:${"cd".repeat(32)}`;
  view.update({ digest, size: 2_000_000, received: 1_000_000, status: "downloading" });
  view.update({ digest: other, size: 500, received: 500, status: "cached" });
  now += 250;
  view.update({ digest, size: 2_000_000, received: 2_000_000, status: "done" });
  const totals = view.finish();
  expect(text().split("\n")).toEqual([
    "cdcdcdcdcdcd  already present  500 B",
    expect.stringMatching(/^abababababab {2}done {2}2\.0 MB in 250 ms, 8\.0 MB\/s$/),
    "",
  ]);
  expect(totals).toEqual({ layers: 2, downloaded: 2_000_000, cached: 500, ms: 250 });
});

test("pull progress: on a terminal, a bar per layer redrawn in place", () => {
  const { term, text } = captured(true);
  const view = new PullProgressView(term);
  const digest = `sha256:${"ab".repeat(32)}`;
  view.update({ digest, size: 1000, received: 250, status: "downloading" });
  view.update({ digest, size: 1000, received: 1000, status: "done" });
  const drawn = text();
  expect(drawn).toContain("abababababab  [======>                 ]  250 B / 1.0 kB");
  // The second draw moves back up over the first line before rewriting it.
  expect(drawn).toContain("\x1b[1F\x1b[2Kabababababab  \x1b[32mdone\x1b[39m");
});
