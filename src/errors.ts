/**
 * Every error this library throws on purpose is a `SupermachineError` with a
 * stable `code`. Match on `code`, never on the message text: messages explain
 * what to do and may be reworded.
 */
export type ErrorCode =
  | "INVALID_ARGUMENT"
  | "QEMU_NOT_FOUND"
  | "QEMU_EXITED"
  | "QMP_ERROR"
  | "QMP_TIMEOUT"
  | "GUEST_ASSETS_NOT_FOUND"
  | "ACCELERATOR_UNAVAILABLE"
  | "BOOT_TIMEOUT"
  | "AGENT_PROTOCOL_MISMATCH"
  | "AGENT_PROTOCOL_ERROR"
  | "AGENT_DISCONNECTED"
  | "GUEST_ERROR"
  | "VM_STOPPED"
  | "INVALID_REFERENCE"
  | "IMAGE_NOT_FOUND"
  | "NO_MATCHING_PLATFORM"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "REGISTRY_AUTH_FAILED"
  | "REGISTRY_UNAVAILABLE"
  | "DIGEST_MISMATCH"
  | "INVALID_IMAGE"
  | "WAIT_TIMEOUT"
  | "MIGRATION_FAILED"
  | "SNAPSHOT_NOT_FOUND"
  | "SNAPSHOT_CORRUPT"
  | "SNAPSHOT_INCOMPATIBLE"
  | "POOL_TIMEOUT"
  | "POOL_CLOSED";

// A brand rather than plain prototype identity, so that `instanceof` still
// holds when two copies of this package end up in one node_modules tree.
const brand = Symbol.for("supermachine.error");

export interface SupermachineErrorOptions {
  cause?: unknown;
  /** For `GUEST_ERROR`: the errno-style code the guest agent reported. */
  guestCode?: string;
}

export class SupermachineError extends Error {
  readonly code: ErrorCode;
  readonly guestCode: string | undefined;

  constructor(code: ErrorCode, message: string, options: SupermachineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SupermachineError";
    this.code = code;
    this.guestCode = options.guestCode;
  }

  get [brand](): true {
    return true;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && brand in value;
  }
}

/** Describes a received value for an argument error: `"-1" (string)`. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `${JSON.stringify(value)} (array)`;
  const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
  return `${shown} (${typeof value})`;
}

export function invalidArgument(option: string, expected: string, value: unknown): never {
  throw new SupermachineError(
    "INVALID_ARGUMENT",
    `\`${option}\` must be ${expected}, received ${describeValue(value)}.`,
  );
}
