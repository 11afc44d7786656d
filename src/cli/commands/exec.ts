import type { Socket } from "node:net";
import { envOption, parseCommand, positionals } from "../args.js";
import type { Command } from "../command.js";
import { controlRequest } from "../control/control-client.js";
import { controlFrame, encodeFrame, FrameDecoder, FrameType } from "../control/frames.js";
import { CliError, ExitCode, signalExitCode, usageError } from "../exit-codes.js";
import type { Io } from "../output/terminal.js";
import { findVmRecord } from "../state/vm-records.js";

interface ExitMessage {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

export const exec: Command = {
  name: "exec",
  summary: "run a command in a running VM",
  usage: "exec [-i] [-t] [-e K=V]... [-u USER] [-w DIR] ID -- CMD...",
  description:
    "Runs CMD in the VM with id ID (a unique prefix will do), as the image's User\n" +
    "in its WorkingDir unless told otherwise, and exits with CMD's exit code\n" +
    "(127 if it does not exist, 126 if it cannot be run, 128+n after signal n).\n" +
    "With -t the command gets a terminal the size of this one, resized with it.",
  options: [
    ["-i, --interactive", "pass this process's stdin to the command"],
    ["-t, --tty", "give the command a pseudo-terminal (with -i: an interactive shell)"],
    ["-e, --env K=V", "set a variable in the command's environment (repeatable)"],
    ["-u, --user USER", "name, uid, name:group or uid:gid"],
    ["-w, --workdir DIR", "the working directory in the guest"],
  ],
  examples: [
    "supermachine exec 3f2a -- cat /etc/os-release",
    "supermachine exec -it 3f2a -- sh",
    "supermachine exec -u postgres db1 -- psql -c 'select 1'",
  ],
  async run(argv: string[], io: Io): Promise<number> {
    const {
      values,
      positionals: given,
      rest,
    } = parseCommand("exec", argv, {
      interactive: { type: "boolean", short: "i" },
      tty: { type: "boolean", short: "t" },
      env: { type: "string", short: "e", multiple: true },
      user: { type: "string", short: "u" },
      workdir: { type: "string", short: "w" },
    });
    const [id] = positionals("exec", given, ["ID"]) as [string];
    if (!rest || rest.length === 0) throw usageError("missing the command after `--`", "exec");
    const record = await findVmRecord(id);
    const interactive = values.interactive === true;
    const tty = values.tty === true ? terminalSize(io) : null;
    const socket = await controlRequest(record, {
      op: "exec",
      argv: rest,
      tty,
      stdin: interactive,
      env: envOption("exec", values.env),
      ...(values.user ? { user: values.user } : {}),
      ...(values.workdir ? { cwd: values.workdir } : {}),
    });
    const exit = await attach(socket, io, { interactive, tty: tty !== null });
    if (exit.exitCode !== null) return exit.exitCode;
    return exit.signal ? signalExitCode(exit.signal) : ExitCode.failure;
  },
};

function terminalSize(io: Io): { rows: number; cols: number } {
  const stream = io.out.stream as NodeJS.WriteStream;
  return { rows: stream.rows || 24, cols: stream.columns || 80 };
}

/**
 * Connects this process's stdio to the guest command over the socket until
 * the command's exit arrives. With a tty and a terminal on stdin, the
 * terminal goes raw (keys go to the guest as typed, Ctrl-C included) and
 * SIGWINCH resizes the guest's terminal; otherwise SIGINT and SIGTERM are
 * passed on to the guest command.
 */
function attach(
  socket: Socket,
  io: Io,
  mode: { interactive: boolean; tty: boolean },
): Promise<ExitMessage> {
  const stdin = process.stdin;
  const raw = mode.tty && mode.interactive && stdin.isTTY === true;
  return new Promise((resolve, reject) => {
    let exit: ExitMessage | undefined;
    const decoder = new FrameDecoder();
    socket.on("data", (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) {
        if (frame.type === FrameType.stdout) io.out.stream.write(frame.payload);
        else if (frame.type === FrameType.stderr) io.err.stream.write(frame.payload);
        else if (frame.type === FrameType.control) {
          const message = JSON.parse(frame.payload.toString("utf8"));
          if (message.exit) exit = message.exit as ExitMessage;
        }
      }
    });
    socket.resume();

    const onInput = (chunk: Buffer) => socket.write(encodeFrame(FrameType.stdin, chunk));
    const onInputEnd = () => socket.write(encodeFrame(FrameType.stdin, Buffer.alloc(0)));
    const onResize = () => socket.write(controlFrame({ resize: terminalSize(io) }));
    const onSignal = (signal: NodeJS.Signals) => socket.write(controlFrame({ signal }));
    if (mode.interactive) {
      if (raw) stdin.setRawMode(true);
      stdin.on("data", onInput);
      stdin.once("end", onInputEnd);
    }
    if (mode.tty) process.on("SIGWINCH", onResize);
    if (!raw) for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, onSignal);

    const restore = () => {
      if (raw) stdin.setRawMode(false);
      stdin.off("data", onInput);
      stdin.off("end", onInputEnd);
      stdin.pause();
      process.off("SIGWINCH", onResize);
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    };
    socket.once("error", (error) => {
      restore();
      reject(new CliError(`Lost the connection to the VM: ${error.message}`));
    });
    socket.once("close", () => {
      restore();
      if (exit) resolve(exit);
      else reject(new CliError("The VM stopped before the command exited."));
    });
  });
}
