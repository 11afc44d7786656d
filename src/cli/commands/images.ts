import { parseCommand, positionals } from "../args.js";
import { listImages } from "../cache/inventory.js";
import { type Command, JSON_OPTION } from "../command.js";
import { ExitCode } from "../exit-codes.js";
import { formatBytes, shortDigest } from "../output/format.js";
import { printJson, printTable } from "../output/table.js";
import type { Io } from "../output/terminal.js";

export const images: Command = {
  name: "images",
  summary: "list pulled images",
  usage: "images [--json]",
  description:
    "Lists the images in the local store: reference, manifest digest, platform,\n" +
    "the size of their blobs, and of the root filesystem built from them (used\n" +
    "by `run` and `bake`; `-` when none was built yet).",
  options: [JSON_OPTION],
  examples: ["supermachine images", "supermachine images --json"],
  async run(argv: string[], io: Io): Promise<number> {
    const { values, positionals: given } = parseCommand("images", argv, {
      json: { type: "boolean" },
    });
    positionals("images", given, []);
    const entries = await listImages();
    if (values.json) {
      printJson(
        io.out,
        entries.map(({ record: _, ...entry }) => entry),
      );
      return ExitCode.ok;
    }
    printTable(
      io.out,
      ["REFERENCE", "DIGEST", "PLATFORM", "SIZE", "ROOTFS"],
      entries.map((entry) => [
        entry.reference,
        shortDigest(entry.manifestDigest),
        entry.platform,
        formatBytes(entry.blobBytes),
        entry.rootfs.length ? formatBytes(entry.rootfs.reduce((sum, r) => sum + r.bytes, 0)) : "-",
      ]),
    );
    return ExitCode.ok;
  },
};
