import type { Vm } from "../vm.js";
import { DEFAULT_WAIT_MS, pollUntil, type WaitStrategy } from "./wait-strategy.js";

/** Ready when `argv`, run in the guest, exits with status 0 (e.g. `pg_isready`). */
export function forExec(argv: string[], options: { timeoutMs?: number } = {}): WaitStrategy {
  const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
  return {
    description: { kind: "exec", argv, timeoutMs },
    waitUntilReady: (vm: Vm) =>
      pollUntil(vm, `\`${argv.join(" ")}\` succeeds`, timeoutMs, async () => {
        const result = await vm.exec(argv, { timeoutMs: Math.min(timeoutMs, 10_000) });
        if (result.exitCode === 0) return true;
        const said = (result.stderr || result.stdout).trim().split("\n").at(-1) ?? "";
        return `exit code ${result.exitCode}${said ? `: ${said}` : ""}`;
      }),
  };
}
