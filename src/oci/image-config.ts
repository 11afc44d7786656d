import { SupermachineError } from "../errors.js";

/**
 * The parts of an image's config that decide how its workload starts. Names
 * follow the OCI `config` object, in camelCase; absent fields are empty.
 */
export interface OciImageConfig {
  entrypoint: string[];
  cmd: string[];
  /** `NAME=value` strings, as in the image. */
  env: string[];
  workingDir: string;
  user: string;
  /** `"6379/tcp"` style keys. */
  exposedPorts: string[];
  stopSignal: string | undefined;
  labels: Record<string, string>;
  /** The platform the config declares, which a single manifest may not. */
  os: string;
  architecture: string;
  variant: string | undefined;
}

/** Parses an image config blob (OCI or Docker; they share this shape). */
export function parseImageConfig(bytes: Uint8Array, where: string): OciImageConfig {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (error) {
    throw new SupermachineError("INVALID_IMAGE", `The config of ${where} is not JSON.`, {
      cause: error,
    });
  }
  const c = (doc?.config ?? {}) as Record<string, unknown>;
  return {
    entrypoint: strings(c.Entrypoint),
    cmd: strings(c.Cmd),
    env: strings(c.Env),
    workingDir: typeof c.WorkingDir === "string" ? c.WorkingDir : "",
    user: typeof c.User === "string" ? c.User : "",
    exposedPorts: Object.keys(objectOr(c.ExposedPorts)),
    stopSignal: typeof c.StopSignal === "string" ? c.StopSignal : undefined,
    labels: Object.fromEntries(
      Object.entries(objectOr(c.Labels)).filter(([, v]) => typeof v === "string"),
    ) as Record<string, string>,
    os: typeof doc.os === "string" ? doc.os : "",
    architecture: typeof doc.architecture === "string" ? doc.architecture : "",
    variant: typeof doc.variant === "string" ? doc.variant : undefined,
  };
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v) => typeof v === "string") : [];
}

function objectOr(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
}
