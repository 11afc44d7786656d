import { parseCommand, positionals } from "../args.js";
import { type Command, JSON_OPTION } from "../command.js";
import { ExitCode } from "../exit-codes.js";
import { formatAge } from "../output/format.js";
import { printJson, printTable } from "../output/table.js";
import type { Io } from "../output/terminal.js";
import { listVmRecords, type VmRecord } from "../state/vm-records.js";

export const ps: Command = {
  name: "ps",
  summary: "list running VMs",
  usage: "ps [--json] [-q]",
  description:
    "Lists the VMs started by `run` (in the foreground or with -d) that are still\n" +
    "owned by a live process. Entries whose process is gone are removed.",
  options: [JSON_OPTION, ["-q, --quiet", "print only the ids"]],
  examples: [
    "supermachine ps",
    "supermachine ps --json",
    "supermachine stop $(supermachine ps -q)",
  ],
  async run(argv: string[], io: Io): Promise<number> {
    const { values, positionals: given } = parseCommand("ps", argv, {
      json: { type: "boolean" },
      quiet: { type: "boolean", short: "q" },
    });
    positionals("ps", given, []);
    const records = await listVmRecords();
    if (values.json) printJson(io.out, records);
    else if (values.quiet) for (const record of records) io.out.line(record.id);
    else {
      printTable(
        io.out,
        ["ID", "SOURCE", "STATUS", "PORTS", "CREATED", "PID"],
        records.map((r) => [
          r.id,
          r.kind === "snapshot" ? `${r.source} (snapshot)` : r.source,
          status(r),
          r.ports.map((p) => `127.0.0.1:${p.host}->${p.guest}`).join(", "),
          formatAge(r.createdAt),
          String(r.pid),
        ]),
      );
    }
    return ExitCode.ok;
  },
};

function status(record: VmRecord): string {
  if (record.status !== "exited")
    return record.detached ? record.status : `${record.status} (foreground)`;
  const exit = record.exit;
  return `exited (${exit?.exitCode ?? exit?.signal ?? "?"})`;
}
