import { ContentStore } from "../../oci/index.js";
import { parseCommand, positionals } from "../args.js";
import { removeCounting } from "../cache/disk-usage.js";
import { listSnapshots, type SnapshotEntry } from "../cache/inventory.js";
import type { Command } from "../command.js";
import { CliError, ExitCode } from "../exit-codes.js";
import { normaliseReference } from "../image-names.js";
import { formatBytes } from "../output/format.js";
import type { Io } from "../output/terminal.js";
import { namesOf, readName, removeName } from "../state/snapshot-names.js";

export const rm: Command = {
  name: "rm",
  summary: "remove snapshots and images",
  usage: "rm NAME|SNAPSHOT-ID|REF...",
  description:
    "Removes each target, looked up in this order:\n" +
    "  NAME         a snapshot baked with `bake --name`: the name, and the snapshot\n" +
    "               unless another name still points at it\n" +
    "  SNAPSHOT-ID  a snapshot listed by `snapshots` (a unique prefix will do)\n" +
    "  REF          a pulled image: its record goes at once; its blobs and root\n" +
    "               filesystem, which other images may share, go with `gc`\n" +
    "Prints the disk space each removal freed.",
  options: [],
  examples: ["supermachine rm web", "supermachine rm 127.0.0.1:5000/nginx:test && supermachine gc"],
  async run(argv: string[], io: Io): Promise<number> {
    const { positionals: given } = parseCommand("rm", argv, {});
    const targets = positionals("rm", given, ["TARGET"], { variadic: true });
    const store = new ContentStore();
    for (const target of targets) io.out.line(await remove(target, store));
    return ExitCode.ok;
  },
};

async function remove(target: string, store: ContentStore): Promise<string> {
  const named = await readName(target);
  if (named) {
    await removeName(target);
    const others = await namesOf(named.dir);
    if (others.length > 0)
      return `Removed name ${target} (its snapshot is also named ${others.join(", ")})`;
    const freed = await removeCounting(named.dir);
    return `Removed ${target} and its snapshot, ${formatBytes(freed)} freed`;
  }

  const snapshot = await snapshotById(target);
  if (snapshot) {
    for (const name of snapshot.names) await removeName(name);
    const freed = await removeCounting(snapshot.dir);
    return `Removed snapshot ${snapshot.id}, ${formatBytes(freed)} freed`;
  }

  const reference = imageReference(target);
  if (reference && (await store.removeImage(reference))) {
    return `Removed image ${reference}; \`supermachine gc\` frees its layers and root filesystem`;
  }
  throw new CliError(
    `Nothing is named ${target}: no snapshot name, snapshot id or pulled image. ` +
      "`supermachine snapshots` and `supermachine images` list them.",
  );
}

async function snapshotById(prefix: string): Promise<SnapshotEntry | undefined> {
  if (!/^[0-9a-f]{4,}$/.test(prefix)) return undefined;
  const matches = (await listSnapshots({ check: false })).filter((s) => s.id.startsWith(prefix));
  if (matches.length > 1) {
    throw new CliError(
      `Snapshot id ${prefix} is ambiguous: it matches ${matches.length} snapshots.`,
    );
  }
  return matches[0];
}

function imageReference(target: string): string | undefined {
  try {
    return normaliseReference(target);
  } catch {
    // Not a valid reference either; the caller says nothing matched.
    return undefined;
  }
}
