// How figures are written in the README table, the sentences and the chart.
import type { SystemName } from "./system.js";

export const SYSTEM_LABELS: Record<SystemName, string> = {
  pool: "supermachine, pool",
  clone: "supermachine, clone",
  docker: "testcontainers + Docker",
};

/** 67 ms, 950 ms, 2.1 s, 16.0 s. */
export function duration(ms: number): string {
  return ms < 1_000 ? `${Math.round(ms)} ms` : `${(ms / 1_000).toFixed(1)} s`;
}

/** A median and its p90 with one unit where they share it: "67 / 80 ms", "2.1 / 2.5 s". */
export function medianAndP90(median: number, p90: number): string {
  if (p90 < 1_000) return `${Math.round(median)} / ${Math.round(p90)} ms`;
  if (median >= 1_000) return `${(median / 1_000).toFixed(1)} / ${(p90 / 1_000).toFixed(1)} s`;
  return `${duration(median)} / ${duration(p90)}`;
}

export function mebibytes(mib: number): string {
  return `${mib.toFixed(1)} MiB`;
}

/** How many times `slow` is `fast`: "4.1×", "23×". */
export function times(slow: number, fast: number): string {
  const ratio = slow / fast;
  return ratio < 10 ? `${ratio.toFixed(1)}×` : `${Math.round(ratio)}×`;
}
