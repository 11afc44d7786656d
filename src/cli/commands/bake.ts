import { Image } from "../../image/image.js";
import type { BakeProgress } from "../../snapshot/bake.js";
import { wait } from "../../wait/index.js";
import type { WaitStrategy } from "../../wait/wait-strategy.js";
import { envOption, integerOption, parseCommand, positionals } from "../args.js";
import type { Command } from "../command.js";
import { ExitCode, usageError } from "../exit-codes.js";
import { BakeProgressView } from "../output/bake-progress.js";
import { formatAge, formatDuration } from "../output/format.js";
import type { Io } from "../output/terminal.js";
import { checkName, saveName } from "../state/snapshot-names.js";

export const bake: Command = {
  name: "bake",
  summary: "boot an image, wait until it is ready, and save a named snapshot",
  usage:
    "bake REF --name NAME [--env K=V]... [-p PORT]... " +
    "[--wait-port P | --wait-log RE | --wait-exec CMD] [--memory MiB] [--vcpus N] [-- CMD...]",
  description:
    "Pulls REF, builds its root filesystem, boots it, waits until the service is\n" +
    "ready, and freezes the VM into a snapshot that `run NAME` restores in a\n" +
    "fraction of a boot. Without a --wait option it waits until every -p port\n" +
    "(default: the image's exposed ports) accepts connections. A bake with the\n" +
    "same image and options is cached: the second one returns at once.",
  options: [
    ["--name NAME", "the name `run` and `rm` know the snapshot by (required)"],
    ["-e, --env K=V", "set a variable in the workload's environment (repeatable)"],
    ["-p, --port PORT", "a guest TCP port the snapshot exposes (repeatable)"],
    ["--wait-port P", "ready when guest port P accepts connections"],
    ["--wait-log RE", "ready when the workload's output matches the regular expression"],
    ["--wait-exec CMD", "ready when `sh -c CMD` exits 0 in the guest"],
    ["--wait-timeout S", "give up waiting after S seconds (default 60)"],
    ["--memory MiB", "guest RAM (default 256)"],
    ["--vcpus N", "virtual CPUs (default 1)"],
    ["-- CMD...", "run CMD instead of the image's Cmd"],
  ],
  examples: [
    "supermachine bake nginx:1.27 --name web -p 80",
    "supermachine bake postgres:16 --name db -e POSTGRES_PASSWORD=pw -p 5432 \\\n" +
      "    --wait-log 'ready to accept connections' --memory 512",
    "supermachine bake redis:7 --name cache --wait-exec 'redis-cli ping'",
  ],
  async run(argv: string[], io: Io): Promise<number> {
    const {
      values,
      positionals: given,
      rest,
    } = parseCommand("bake", argv, {
      name: { type: "string" },
      env: { type: "string", short: "e", multiple: true },
      port: { type: "string", short: "p", multiple: true },
      "wait-port": { type: "string" },
      "wait-log": { type: "string" },
      "wait-exec": { type: "string" },
      "wait-timeout": { type: "string" },
      memory: { type: "string" },
      vcpus: { type: "string" },
    });
    const [reference] = positionals("bake", given, ["REF"]) as [string];
    if (values.name === undefined) throw usageError("`--name NAME` is required", "bake");
    const name = checkName(values.name, "bake");
    const ports = values.port?.map((port) => guestPort(port, "port"));
    const options = {
      env: envOption("bake", values.env),
      ...(ports ? { ports } : {}),
      waitFor: waitStrategy(values),
      memoryMib: integerOption("bake", "memory", values.memory, 64),
      vcpus: integerOption("bake", "vcpus", values.vcpus, 1),
      ...(rest && rest.length > 0 ? { command: rest } : {}),
    };

    const started = Date.now();
    const view = new BakeProgressView(io.err);
    let cached = false;
    let snapshot: Awaited<ReturnType<typeof Image.bake>>;
    try {
      const image = await pullStage(reference, view);
      snapshot = await Image.bake(image, {
        ...options,
        onProgress: (progress: BakeProgress) => {
          if (progress.step === "cached") cached = true;
          view.step(progress);
        },
      });
    } finally {
      view.finish();
    }

    const { manifest } = snapshot;
    await saveName({
      name,
      dir: snapshot.dir,
      image: manifest.image?.reference ?? reference,
      ports: manifest.ports,
      createdAt: manifest.createdAt,
    });
    if (cached) {
      io.out.line(
        `${name}: snapshot cached (baked ${formatAge(manifest.createdAt)} with the same image ` +
          `and options), ${snapshot.dir}`,
      );
    } else {
      const took = formatDuration(Date.now() - started);
      io.out.line(`Baked ${name} from ${reference} in ${took}: ${snapshot.dir}`);
    }
    io.out.line(`Start it with: supermachine run ${name}`);
    return ExitCode.ok;
  },
};

async function pullStage(reference: string, view: BakeProgressView): Promise<Image> {
  const started = Date.now();
  const received = new Map<string, number>();
  const image = await Image.pull(reference, {
    onProgress: (layer) => {
      received.set(layer.digest, layer.received);
      view.pullBytes([...received.values()].reduce((sum, bytes) => sum + bytes, 0));
    },
  });
  view.step({ step: "pull", ms: Date.now() - started });
  return image;
}

function waitStrategy(values: {
  "wait-port"?: string;
  "wait-log"?: string;
  "wait-exec"?: string;
  "wait-timeout"?: string;
}): WaitStrategy | undefined {
  const given = (["wait-port", "wait-log", "wait-exec"] as const).filter(
    (option) => values[option] !== undefined,
  );
  if (given.length > 1) {
    throw usageError(
      `choose one of --wait-port, --wait-log and --wait-exec, not ${given.join(" and ")}`,
      "bake",
    );
  }
  const seconds = integerOption("bake", "wait-timeout", values["wait-timeout"], 1);
  const timing = seconds === undefined ? {} : { timeoutMs: seconds * 1000 };
  if (values["wait-port"] !== undefined) {
    return wait.forPort(guestPort(values["wait-port"], "wait-port"), timing);
  }
  if (values["wait-log"] !== undefined) return wait.forLog(pattern(values["wait-log"]), 1, timing);
  if (values["wait-exec"] !== undefined) {
    return wait.forExec(["sh", "-c", values["wait-exec"]], timing);
  }
  if (seconds !== undefined) {
    throw usageError("`--wait-timeout` needs one of --wait-port, --wait-log, --wait-exec", "bake");
  }
  return undefined;
}

function pattern(text: string): RegExp {
  try {
    return new RegExp(text);
  } catch (error) {
    throw usageError(
      `\`--wait-log\` is not a valid regular expression: ${(error as Error).message}`,
      "bake",
    );
  }
}

export function guestPort(text: string, option: string): number {
  const port = Number(text);
  if (/^\d+$/.test(text) && port > 0 && port < 65536) return port;
  throw usageError(
    `\`--${option}\` must be a TCP port number (1-65535), received ${JSON.stringify(text)}`,
    "bake",
  );
}
