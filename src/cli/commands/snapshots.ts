import { parseCommand, positionals } from "../args.js";
import { listSnapshots } from "../cache/inventory.js";
import { type Command, JSON_OPTION } from "../command.js";
import { ExitCode } from "../exit-codes.js";
import { formatAge, formatBytes } from "../output/format.js";
import { printJson, printTable } from "../output/table.js";
import type { Io } from "../output/terminal.js";

export const snapshots: Command = {
  name: "snapshots",
  summary: "list baked snapshots",
  usage: "snapshots [--json]",
  description:
    "Lists the snapshots in the cache: those baked by `bake --name` under their\n" +
    "names, and those the library baked (Image.bake, the test integrations)\n" +
    "under their id. STATUS says whether this host can restore each one.",
  options: [JSON_OPTION],
  examples: ["supermachine snapshots", "supermachine snapshots --json"],
  async run(argv: string[], io: Io): Promise<number> {
    const { values, positionals: given } = parseCommand("snapshots", argv, {
      json: { type: "boolean" },
    });
    positionals("snapshots", given, []);
    const entries = await listSnapshots();
    if (values.json) {
      printJson(io.out, entries);
      return ExitCode.ok;
    }
    printTable(
      io.out,
      ["NAME", "ID", "IMAGE", "CREATED", "SIZE", "STATUS"],
      entries.map((entry) => [
        entry.names.join(", ") || "-",
        entry.id.slice(0, 12),
        entry.image ?? "-",
        entry.createdAt ? formatAge(entry.createdAt) : "-",
        formatBytes(entry.bytes),
        entry.status,
      ]),
    );
    return ExitCode.ok;
  },
};
