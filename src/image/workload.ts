import { invalidArgument, SupermachineError } from "../errors.js";
import { DEFAULT_PATH } from "../exec-options.js";

/** The parts of an image config (see `OciImageConfig`) that decide how it runs. */
export interface ImageRunConfig {
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
}

/** `docker run`'s overrides, by the same names. */
export interface WorkloadOverrides {
  /** Replaces the image's Cmd (the arguments after the entrypoint). */
  command?: string[];
  /** Replaces the image's Entrypoint, and drops its Cmd unless `command` is given. */
  entrypoint?: string[];
  /** Added to the image's Env, replacing variables of the same name. */
  env?: Record<string, string>;
  /** `name`, `uid`, `name:group` or `uid:gid`, resolved inside the image. */
  user?: string;
  /** Working directory; default the image's WorkingDir, else "/". */
  workdir?: string;
}

export interface Workload {
  argv: string[];
  env: string[];
  cwd: string;
  user: string;
}

/**
 * What `docker run [--entrypoint E] [-e K=V] [-u U] [-w W] IMAGE [CMD...]`
 * would run: Entrypoint + Cmd with the same override rules.
 */
export function resolveWorkload(
  config: ImageRunConfig,
  overrides: WorkloadOverrides,
  hostname: string,
): Workload {
  const entrypoint = overrides.entrypoint ?? config.entrypoint ?? [];
  // As in Docker: a new entrypoint makes the image's Cmd meaningless.
  const imageCmd = overrides.entrypoint === undefined ? (config.cmd ?? []) : [];
  const argv = [
    ...stringList("entrypoint", entrypoint),
    ...stringList("command", overrides.command ?? imageCmd),
  ];
  if (argv.length === 0) {
    throw new SupermachineError(
      "INVALID_ARGUMENT",
      "The image has neither an Entrypoint nor a Cmd; pass `command` to say what to run.",
    );
  }
  return {
    argv,
    env: mergeEnv(config.env ?? [], overrides.env ?? {}, hostname),
    cwd: overrides.workdir ?? (config.workingDir || "/"),
    user: overrides.user ?? config.user ?? "",
  };
}

function mergeEnv(imageEnv: string[], overrides: Record<string, string>, hostname: string) {
  const env = new Map<string, string>();
  env.set("PATH", DEFAULT_PATH);
  env.set("HOSTNAME", hostname);
  for (const entry of imageEnv) {
    const eq = entry.indexOf("=");
    if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  for (const [key, value] of Object.entries(overrides)) {
    if (key === "" || key.includes("=") || typeof value !== "string") {
      invalidArgument(`env.${key}`, "a string under a name without '='", value);
    }
    env.set(key, value);
  }
  return [...env].map(([key, value]) => `${key}=${value}`);
}

function stringList(option: string, value: unknown): string[] {
  if (Array.isArray(value) && value.every((item) => typeof item === "string")) return value;
  return invalidArgument(option, "an array of strings", value);
}
