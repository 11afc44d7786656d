// Summary statistics shared by the benchmarks, so that every results file
// means the same thing by "median" and "p90".

export interface Summary {
  medianMs: number;
  p90Ms: number;
  minMs: number;
  maxMs: number;
  samplesMs: number[];
}

export const round1 = (value: number) => Math.round(value * 10) / 10;

/** The middle value; the mean of the two middle values for an even count. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length % 2) return sorted[mid] ?? Number.NaN;
  return ((sorted[mid - 1] ?? Number.NaN) + (sorted[mid] ?? Number.NaN)) / 2;
}

/** Nearest-rank percentile: always one of the measured values. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

export function summarize(values: number[]): Summary {
  return {
    medianMs: round1(median(values)),
    p90Ms: round1(percentile(values, 90)),
    minMs: round1(Math.min(...values)),
    maxMs: round1(Math.max(...values)),
    samplesMs: values.map(round1),
  };
}
