import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { ContentStore } from "../../oci/index.js";
import { isAlive } from "../../util/process-alive.js";
import { parseCommand, positionals } from "../args.js";
import { diskUsage, removeCounting } from "../cache/disk-usage.js";
import { listSnapshots, rootfsDir, snapshotsDir } from "../cache/inventory.js";
import { type Command, JSON_OPTION } from "../command.js";
import { ExitCode } from "../exit-codes.js";
import { formatBytes } from "../output/format.js";
import { printJson, printTable } from "../output/table.js";
import type { Io } from "../output/terminal.js";
import { listNames, removeName } from "../state/snapshot-names.js";
import { listVmRecords } from "../state/vm-records.js";

interface Freed {
  removed: string[];
  bytes: number;
}

export const gc: Command = {
  name: "gc",
  summary: "free disk space nothing refers to any more",
  usage: "gc [--json]",
  description:
    "Removes, in this order, and reports the disk space freed:\n" +
    "  snapshots         not named by `bake --name`, and either of an image no\n" +
    "                    longer pulled or not restorable here any more (made with\n" +
    "                    another QEMU, accelerator or guest build, or damaged)\n" +
    "  root filesystems  of images no longer pulled\n" +
    "  blobs             that no pulled image refers to\n" +
    "and what dead processes left: half-made snapshots and root filesystems,\n" +
    "names of deleted snapshots, entries of VMs whose process is gone. Do not run\n" +
    "it while another process pulls: that pull's new blobs are not referred to yet.",
  options: [JSON_OPTION],
  examples: ["supermachine rm redis:7 && supermachine gc", "supermachine gc --json"],
  async run(argv: string[], io: Io): Promise<number> {
    const { values, positionals: given } = parseCommand("gc", argv, { json: { type: "boolean" } });
    positionals("gc", given, []);
    const store = new ContentStore();
    const recorded = new Set((await store.listImages()).map((r) => r.manifestDigest));

    await listVmRecords(); // drops entries of dead owners
    const snapshots = await collectSnapshots(recorded);
    const rootfs = await collectRootfs(recorded);
    const blobsDir = join(store.root, "blobs");
    const before = await diskUsage(blobsDir);
    const { blobsRemoved } = await store.gc();
    const blobs = {
      removed: [`${blobsRemoved} blobs`],
      bytes: before - (await diskUsage(blobsDir)),
    };
    const bytesFreed = snapshots.bytes + rootfs.bytes + blobs.bytes;

    if (values.json) {
      printJson(io.out, {
        snapshots,
        rootfs,
        blobs: { removed: blobsRemoved, bytes: blobs.bytes },
        bytesFreed,
      });
      return ExitCode.ok;
    }
    printTable(
      io.out,
      ["WHAT", "REMOVED", "FREED"],
      [
        ["snapshots", String(snapshots.removed.length), formatBytes(snapshots.bytes)],
        ["root filesystems", String(rootfs.removed.length), formatBytes(rootfs.bytes)],
        ["blobs", String(blobsRemoved), formatBytes(blobs.bytes)],
      ],
    );
    io.out.line(`Total: ${formatBytes(bytesFreed)} freed`);
    return ExitCode.ok;
  },
};

async function collectSnapshots(recorded: Set<string>): Promise<Freed> {
  const freed: Freed = { removed: [], bytes: 0 };
  for (const entry of await listSnapshots()) {
    if (entry.names.length > 0) continue;
    const orphan = entry.manifestDigest !== null && !recorded.has(entry.manifestDigest);
    if (!orphan && entry.restorable !== false) continue;
    freed.bytes += await removeCounting(entry.dir);
    freed.removed.push(entry.id);
  }
  freed.bytes += await removeAbandoned(snapshotsDir(), /\.tmp-(\d+)-[0-9a-f]+$/, freed);
  for (const entry of await listNames()) {
    const exists = await stat(entry.dir).then(
      () => true,
      () => false,
    );
    if (!exists) await removeName(entry.name);
  }
  return freed;
}

async function collectRootfs(recorded: Set<string>): Promise<Freed> {
  const freed: Freed = { removed: [], bytes: 0 };
  for (const name of await readdir(rootfsDir()).catch(() => [] as string[])) {
    const digest = /^sha256-([0-9a-f]{64})-.*\.ext4$/.exec(name)?.[1];
    if (!digest || recorded.has(`sha256:${digest}`)) continue;
    freed.bytes += await removeCounting(join(rootfsDir(), name));
    freed.removed.push(name);
  }
  freed.bytes += await removeAbandoned(rootfsDir(), /\.(\d+)\.\d+\.tmp$/, freed);
  return freed;
}

/** Removes what a process that died mid-way left, named with its pid. */
async function removeAbandoned(dir: string, pidIn: RegExp, freed: Freed): Promise<number> {
  let bytes = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const pid = Number(pidIn.exec(name)?.[1]);
    if (!pid || isAlive(pid)) continue;
    bytes += await removeCounting(join(dir, name));
    freed.removed.push(name);
  }
  return bytes;
}
