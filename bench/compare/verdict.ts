// The README's sentences on who wins what, computed from the results so
// that they cannot drift from the table.
import { duration, mebibytes, times } from "./format.js";
import { type CompareResult, SERVICES, type ServiceResult } from "./result.js";
import type { ServiceName } from "./services.js";

interface Win {
  figure: string;
  service: ServiceName;
  docker: string;
  other: string;
}

// Why Docker can win a figure by design, said where it does.
const WHY: Record<string, string> = {
  "memory per instance":
    "since a VM holds a guest kernel and QEMU's own memory besides the service",
  "the one-time cost":
    "since supermachine builds an ext4 root filesystem in a VM and boots the service " +
    "once to freeze it",
};

const AGAINST = { pool: "a pooled VM", clone: "an on-demand clone" };

/** Every figure in which Docker's median beat supermachine's. */
function dockerWins(result: CompareResult): Win[] {
  const wins: Win[] = [];
  const timed = [
    ["start → first operation", "ready"],
    ["a whole test cycle", "cycle"],
    [`${result.parallel} tests in parallel`, "parallelWall"],
  ] as const;
  for (const service of SERVICES) {
    const figures: ServiceResult = result.services[service];
    for (const [label, key] of timed) {
      const docker = figures[key].docker.medianMs;
      for (const system of ["pool", "clone"] as const) {
        const other = figures[key][system].medianMs;
        if (docker < other) {
          const figure = `${label} against ${AGAINST[system]}`;
          wins.push({ figure, service, docker: duration(docker), other: duration(other) });
        }
      }
    }
    const { vm, docker } = figures.memory;
    if (docker.medianPssMiB < vm.medianPssMiB) {
      const [d, v] = [mebibytes(docker.medianPssMiB), mebibytes(vm.medianPssMiB)];
      wins.push({ figure: "memory per instance", service, docker: d, other: v });
    }
    const once = figures.oneTime;
    if (once.docker.totalMs < once.supermachine.totalMs) {
      const [d, s] = [duration(once.docker.totalMs), duration(once.supermachine.totalMs)];
      wins.push({ figure: "the one-time cost", service, docker: d, other: s });
    }
  }
  return wins;
}

function list(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

/** Every figure Docker won, with the numbers, in one sentence; or that it won none. */
export function whereDockerWins(result: CompareResult): string {
  const wins = dockerWins(result);
  if (wins.length === 0) return "Docker won none of the figures measured in this run.";
  const byFigure = new Map<string, Win[]>();
  for (const win of wins) byFigure.set(win.figure, [...(byFigure.get(win.figure) ?? []), win]);
  const clauses = [...byFigure].map(([figure, each]) => {
    const cases = each.map((win) => `${win.service} ${win.docker} against ${win.other}`);
    const why = WHY[figure];
    return `on ${figure} (${cases.join(", ")})${why ? `, ${why}` : ""}`;
  });
  return `Docker wins in this run ${clauses.join("; and ")}.`;
}

/** How much sooner a pooled VM answered than a container, per service where it did. */
export function poolAdvantage(result: CompareResult): string {
  const faster = SERVICES.filter((service) => {
    const { ready } = result.services[service];
    return ready.pool.medianMs < ready.docker.medianMs;
  }).map((service) => {
    const { ready } = result.services[service];
    return `${times(ready.docker.medianMs, ready.pool.medianMs)} for ${service}`;
  });
  if (faster.length === 0) return "A pooled VM answered sooner than a container for no service.";
  return (
    "From start requested to first operation, a VM from the warm pool answered sooner " +
    `than a container started by testcontainers: ${list(faster)} (medians).`
  );
}

/** What the accelerator means for the VM figures. */
export function acceleratorNote(result: CompareResult): string {
  if (result.accel !== "tcg") {
    return `The VMs ran with \`${result.accel}\` hardware acceleration.`;
  }
  return (
    "The VMs ran under `tcg`, QEMU's software emulation: this machine offers no usable " +
    "hardware acceleration. Each new QEMU translates the guest's code afresh, which " +
    "weighs most on an on-demand clone; Docker runs its containers natively and pays " +
    "no such cost."
  );
}
