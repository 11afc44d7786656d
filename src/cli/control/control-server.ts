import { rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { finished } from "node:stream/promises";
import { SupermachineError } from "../../errors.js";
import type { SpawnOptions } from "../../exec-options.js";
import { debugFor } from "../../util/debug.js";
import type { Vm } from "../../vm.js";
import {
  controlFrame,
  encodeFrame,
  FrameDecoder,
  FrameType,
  readJsonLine,
  writeJsonLine,
} from "./frames.js";

const log = debugFor("cli:control");

/** What the control socket acts on: the VM and how its owner stops it. */
export interface ControlTarget {
  vm: Vm;
  stop(): Promise<void>;
}

/**
 * Serves a VM's control socket (docs/cli.md): `exec`, `logs` and `stop`
 * requests from other `supermachine` processes. The socket lives in the VM's
 * directory, which only its user can enter; that is the whole access check.
 */
export async function serveControl(path: string, target: ControlTarget): Promise<Server> {
  await rm(path, { force: true });
  const server = createServer((socket) => {
    handle(socket, target).catch((error) => {
      log("request failed: %O", error);
      socket.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return server;
}

async function handle(socket: Socket, target: ControlTarget): Promise<void> {
  socket.on("error", (error) => log("connection error: %s", error.message));
  const request = await readJsonLine(socket);
  log("request %o", request);
  try {
    switch (request.op) {
      case "exec":
        return await exec(socket, target.vm, request);
      case "logs":
        return logs(socket, target.vm, request.follow === true);
      case "stop":
        await target.stop();
        socket.end(`${JSON.stringify({ ok: true })}\n`);
        return;
      default:
        refuse(socket, "INVALID_ARGUMENT", `unknown control request ${String(request.op)}`);
    }
  } catch (error) {
    if (socket.writable) refuse(socket, codeOf(error), (error as Error).message);
  }
}

async function exec(socket: Socket, vm: Vm, request: Record<string, unknown>): Promise<void> {
  const child = vm.spawn(request.argv as string[], {
    tty: (request.tty as SpawnOptions["tty"]) ?? false,
    stdin: request.stdin === true,
    env: request.env as Record<string, string> | undefined,
    user: request.user as string | undefined,
    cwd: request.cwd as string | undefined,
  });
  await child.pid; // the agent refused it (bad user, directory) if this throws
  writeJsonLine(socket, { ok: true });

  let exited = false;
  const decoder = new FrameDecoder();
  socket.on("data", (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) {
      if (frame.type === FrameType.stdin) {
        if (frame.payload.length === 0) child.stdin.end();
        else child.stdin.write(frame.payload);
      } else if (frame.type === FrameType.control) {
        const message = JSON.parse(frame.payload.toString("utf8"));
        if (message.resize) child.resize(message.resize.rows, message.resize.cols).catch(ignore);
        if (message.signal) child.kill(message.signal, { group: true }).catch(ignore);
      }
    }
  });
  // A client that goes away mid-run leaves no orphan: its process gets the
  // hangup a closed terminal would give it.
  socket.once("close", () => {
    if (!exited) child.kill("SIGHUP", { group: true }).catch(ignore);
  });
  socket.resume();
  child.stdin.on("error", ignore);

  forward(child.stdout, socket, FrameType.stdout);
  forward(child.stderr, socket, FrameType.stderr);
  const status = await child.wait();
  await Promise.all([finished(child.stdout), finished(child.stderr)]).catch(ignore);
  exited = true;
  socket.end(controlFrame({ exit: { exitCode: status.exitCode, signal: status.signal } }));
}

/** Copies a stream into frames, pausing it while the socket is full. */
function forward(source: NodeJS.ReadableStream, socket: Socket, type: number): void {
  source.on("data", (chunk: Buffer) => {
    if (!socket.write(encodeFrame(type, chunk))) {
      source.pause();
      socket.once("drain", () => source.resume());
    }
  });
}

function logs(socket: Socket, vm: Vm, follow: boolean): void {
  const stream = vm.logs({ follow });
  writeJsonLine(socket, { ok: true });
  stream.pipe(socket);
  stream.on("error", (error) => {
    log("logs failed: %s", error.message);
    socket.end();
  });
  socket.once("close", () => stream.destroy());
  socket.resume(); // to see the client hang up
}

function refuse(socket: Socket, code: string, message: string): void {
  socket.end(`${JSON.stringify({ ok: false, code, message })}\n`);
}

function codeOf(error: unknown): string {
  return error instanceof SupermachineError ? error.code : "ERROR";
}

function ignore(): void {
  // The process or the connection is already gone; nothing is left to tell.
}
