import { parseAccelerator } from "./engine/accelerator.js";
import type { GuestArch } from "./engine/guest-arch.js";
import { hostGuestArch } from "./engine/guest-arch.js";
import type { Accelerator, DiskSpec } from "./engine/machine.js";
import { invalidArgument } from "./errors.js";

export interface BootOptions {
  /** Guest RAM in MiB. Default 256. */
  memoryMib?: number;
  /** Virtual CPUs. Default 1. */
  vcpus?: number;
  /** Force an accelerator instead of the probed one. */
  accel?: Accelerator;
  /** Extra kernel command line arguments. */
  kernelArgs?: string[];
  /** Extra virtio block devices, in order: /dev/vda, /dev/vdb, … */
  disks?: DiskSpec[];
  /** How long the guest may take to answer the agent handshake. Default 60 s. */
  bootTimeoutMs?: number;
  /**
   * How long the guest keeps running without a host connected before it
   * powers itself off. Default 30 s.
   */
  graceSeconds?: number;
  /** The guest hostname. Default "supermachine". */
  hostname?: string;
  /** Guest architecture. Default: the host's. */
  arch?: GuestArch;
}

export interface ResolvedBootOptions {
  memoryMib: number;
  vcpus: number;
  accel: Accelerator | undefined;
  kernelArgs: string[];
  disks: DiskSpec[];
  bootTimeoutMs: number;
  graceSeconds: number;
  hostname: string;
  arch: GuestArch;
}

export function resolveBootOptions(options: BootOptions): ResolvedBootOptions {
  return {
    memoryMib: positiveInteger("memoryMib", options.memoryMib ?? 256, 64),
    vcpus: positiveInteger("vcpus", options.vcpus ?? 1, 1),
    accel: options.accel === undefined ? undefined : parseAccelerator(options.accel, "accel"),
    kernelArgs: stringList("kernelArgs", options.kernelArgs ?? []),
    disks: options.disks ?? [],
    bootTimeoutMs: positiveInteger("bootTimeoutMs", options.bootTimeoutMs ?? 60_000, 1),
    graceSeconds: positiveInteger("graceSeconds", options.graceSeconds ?? 30, 1),
    hostname: hostname(options.hostname ?? "supermachine"),
    arch: options.arch ?? hostGuestArch(),
  };
}

function positiveInteger(option: string, value: unknown, min: number): number {
  if (typeof value === "number" && Number.isInteger(value) && value >= min) return value;
  return invalidArgument(option, `an integer of at least ${min}`, value);
}

function stringList(option: string, value: unknown): string[] {
  if (Array.isArray(value) && value.every((item) => typeof item === "string" && item !== "")) {
    return value;
  }
  return invalidArgument(option, "an array of non-empty strings", value);
}

function hostname(value: unknown): string {
  if (typeof value === "string" && /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,62})$/.test(value)) return value;
  return invalidArgument("hostname", "a hostname label (letters, digits, '-')", value);
}
