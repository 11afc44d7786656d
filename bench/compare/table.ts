// The README's Markdown table: one row per service and system.
import { duration, mebibytes, medianAndP90, SYSTEM_LABELS } from "./format.js";
import { type CompareResult, SERVICES, SYSTEMS } from "./result.js";

export function markdownTable(result: CompareResult): string {
  const n = result.parallel;
  const lines = [
    "| service | system | start → first operation | start, operation, teardown " +
      `| ${n} tests in parallel, wall | memory per instance (PSS) | one-time cost |`,
    "|---|---|---|---|---|---|---|",
  ];
  for (const name of SERVICES) {
    const service = result.services[name];
    for (const system of SYSTEMS) {
      const vm = system !== "docker";
      const ready = service.ready[system];
      const cycle = service.cycle[system];
      const parallel = service.parallelWall[system];
      const memory = vm ? service.memory.vm : service.memory.docker;
      const oneTime = vm ? service.oneTime.supermachine : service.oneTime.docker;
      const cells = [
        name,
        SYSTEM_LABELS[system],
        medianAndP90(ready.medianMs, ready.p90Ms),
        medianAndP90(cycle.medianMs, cycle.p90Ms),
        medianAndP90(parallel.medianMs, parallel.p90Ms),
        mebibytes(memory.medianPssMiB),
        duration(oneTime.totalMs),
      ];
      lines.push(`| ${cells.join(" | ")} |`);
    }
  }
  return lines.join("\n");
}
