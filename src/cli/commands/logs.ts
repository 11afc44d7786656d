import { pipeline } from "node:stream/promises";
import { parseCommand, positionals } from "../args.js";
import type { Command } from "../command.js";
import { controlRequest } from "../control/control-client.js";
import { ExitCode } from "../exit-codes.js";
import type { Io } from "../output/terminal.js";
import { findVmRecord } from "../state/vm-records.js";

export const logs: Command = {
  name: "logs",
  summary: "print a VM's workload output",
  usage: "logs [-f] ID",
  description:
    "Prints what the VM's workload wrote to stdout and stderr since it started,\n" +
    "interleaved as it was written. With -f, keeps printing new output until the\n" +
    "workload exits or Ctrl-C.",
  options: [["-f, --follow", "keep printing new output"]],
  examples: ["supermachine logs 3f2a", "supermachine logs -f 3f2a"],
  async run(argv: string[], io: Io): Promise<number> {
    const { values, positionals: given } = parseCommand("logs", argv, {
      follow: { type: "boolean", short: "f" },
    });
    const [id] = positionals("logs", given, ["ID"]) as [string];
    const record = await findVmRecord(id);
    const socket = await controlRequest(record, { op: "logs", follow: values.follow === true });
    const stop = () => socket.destroy();
    process.once("SIGINT", stop);
    try {
      await pipeline(socket, io.out.stream, { end: false }).catch((error: Error) => {
        if (!socket.destroyed) throw error; // Ctrl-C during -f is the normal end
      });
    } finally {
      process.off("SIGINT", stop);
    }
    return ExitCode.ok;
  },
};
