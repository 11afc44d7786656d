import { envOption, integerOption, parseCommand, positionals } from "../args.js";
import type { Command } from "../command.js";
import { usageError } from "../exit-codes.js";
import type { Io } from "../output/terminal.js";
import { runDetached } from "../run/detached.js";
import { runForeground } from "../run/foreground.js";
import { newVmId } from "../state/vm-records.js";
import type { OwnerSpec } from "../vm-owner.js";
import { resolveSource } from "../vm-source.js";

export const run: Command = {
  name: "run",
  summary: "start a VM from an image or a baked snapshot",
  usage: "run [-p [HOST:]GUEST]... [-e K=V]... [--rm] [-d] REF|NAME [-- CMD...]",
  description:
    "Starts a VM: restored from the snapshot baked as NAME (see `bake`), or booted\n" +
    "from image REF. In the foreground it streams the workload's output and stops\n" +
    "the VM on Ctrl-C (the image's stop signal first, then SIGKILL after 10 s);\n" +
    "it exits with the workload's exit code. With -d it prints the VM's id and\n" +
    "leaves the VM to a background process: use `exec`, `logs` and `stop`.",
  options: [
    ["-p, --publish [HOST:]GUEST", "forward 127.0.0.1:HOST to guest TCP port GUEST (repeatable)"],
    ["-e, --env K=V", "set a variable in the workload's environment (images only)"],
    ["-d, --detach", "run in the background and print the VM's id"],
    ["--rm", "with -d: stop and forget the VM when its workload exits"],
    ["--memory MiB", "guest RAM (images only; default 256)"],
    ["--vcpus N", "virtual CPUs (images only; default 1)"],
    ["-- CMD...", "run CMD instead of the image's Cmd (images only)"],
  ],
  examples: [
    "supermachine run -p 8080:80 nginx:1.27",
    "supermachine run -d -p 5432:5432 db",
    "supermachine run --rm busybox -- sh -c 'uname -a'",
  ],
  async run(argv: string[], io: Io): Promise<number> {
    const {
      values,
      positionals: given,
      rest,
    } = parseCommand("run", argv, {
      publish: { type: "string", short: "p", multiple: true },
      env: { type: "string", short: "e", multiple: true },
      detach: { type: "boolean", short: "d" },
      rm: { type: "boolean" },
      memory: { type: "string" },
      vcpus: { type: "string" },
    });
    const [text] = positionals("run", given, ["REF|NAME"]) as [string];
    const spec: OwnerSpec = {
      id: newVmId(),
      source: text,
      ports: (values.publish ?? []).map(parsePublish),
      env: envOption("run", values.env),
      command: rest && rest.length > 0 ? rest : null,
      memoryMib: integerOption("run", "memory", values.memory, 64),
      vcpus: integerOption("run", "vcpus", values.vcpus, 1),
      detached: values.detach === true,
      removeOnExit: values.rm === true,
    };
    const source = await resolveSource(text);
    if (source.kind === "snapshot") checkSnapshotRun(spec, values.env);
    return spec.detached ? runDetached(spec, source, io) : runForeground(spec, source, io);
  },
};

/** `8080:80` or `80` (a free host port). */
function parsePublish(text: string): OwnerSpec["ports"][number] {
  const match = /^(?:(\d+):)?(\d+)$/.exec(text);
  const host = match?.[1] === undefined ? null : Number(match[1]);
  const guest = Number(match?.[2]);
  const valid = (port: number) => port > 0 && port < 65536;
  if (match && valid(guest) && (host === null || valid(host))) return { host, guest };
  throw usageError(
    `\`--publish\` takes HOST:GUEST or GUEST port numbers, received ${JSON.stringify(text)}`,
    "run",
  );
}

/** A snapshot's workload is already running: what it was baked with stays. */
function checkSnapshotRun(spec: OwnerSpec, env: string[] | undefined): void {
  const changes = [
    env?.length ? "--env" : undefined,
    spec.command ? "a command" : undefined,
    spec.memoryMib !== undefined ? "--memory" : undefined,
    spec.vcpus !== undefined ? "--vcpus" : undefined,
  ].filter(Boolean);
  if (changes.length === 0) return;
  throw usageError(
    `${spec.source} is a baked snapshot, whose workload is already running: ${changes.join(", ")} ` +
      "cannot change it. Bake again with these options instead",
    "run",
  );
}
