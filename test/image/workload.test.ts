import { expect, test } from "vitest";
import { resolveWorkload } from "../../src/image/workload.js";

const redis = {
  entrypoint: ["docker-entrypoint.sh"],
  cmd: ["redis-server"],
  env: ["PATH=/usr/local/bin:/usr/bin:/bin", "REDIS_VERSION=7.0"],
  workingDir: "/data",
  user: "",
};

test("Entrypoint then Cmd, with the image's Env, WorkingDir and User", () => {
  expect(resolveWorkload(redis, {}, "vm1")).toEqual({
    argv: ["docker-entrypoint.sh", "redis-server"],
    env: ["PATH=/usr/local/bin:/usr/bin:/bin", "HOSTNAME=vm1", "REDIS_VERSION=7.0"],
    cwd: "/data",
    user: "",
  });
});

test("command replaces Cmd only", () => {
  const out = resolveWorkload(redis, { command: ["redis-server", "--port", "7000"] }, "h");
  expect(out.argv).toEqual(["docker-entrypoint.sh", "redis-server", "--port", "7000"]);
});

test("entrypoint replaces Entrypoint and drops the image's Cmd, as docker run does", () => {
  expect(resolveWorkload(redis, { entrypoint: ["sh"] }, "h").argv).toEqual(["sh"]);
  expect(resolveWorkload(redis, { entrypoint: ["sh"], command: ["-c", "id"] }, "h").argv).toEqual([
    "sh",
    "-c",
    "id",
  ]);
});

test("env overrides by name; a default PATH exists when the image sets none", () => {
  const out = resolveWorkload({ cmd: ["x"] }, { env: { A: "1", PATH: "/bin" } }, "h");
  expect(out.env).toEqual(["PATH=/bin", "HOSTNAME=h", "A=1"]);
  expect(resolveWorkload({ cmd: ["x"] }, {}, "h").env[0]).toMatch(/^PATH=\/usr\/local\/sbin:/);
});

test("user and workdir overrides; defaults are root and /", () => {
  expect(resolveWorkload({ cmd: ["x"] }, {}, "h")).toMatchObject({ user: "", cwd: "/" });
  expect(resolveWorkload(redis, { user: "1000:1000", workdir: "/tmp" }, "h")).toMatchObject({
    user: "1000:1000",
    cwd: "/tmp",
  });
});

test("nothing to run is a clear error; bad overrides name the option", () => {
  expect(() => resolveWorkload({}, {}, "h")).toThrow(/neither an Entrypoint nor a Cmd/);
  expect(() => resolveWorkload(redis, { command: "redis-server" as never }, "h")).toThrow(
    /`command` must be an array of strings/,
  );
  expect(() => resolveWorkload(redis, { env: { "A=B": "1" } }, "h")).toThrow(/`env.A=B`/);
});
