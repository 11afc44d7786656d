import type { Readable } from "node:stream";
import type { Vm } from "../vm.js";
import { DEFAULT_WAIT_MS, pollUntil, type WaitStrategy } from "./wait-strategy.js";

/**
 * Ready when a line of the workload's output has matched `pattern` `times`
 * times (postgres prints "ready to accept connections" twice: once for its
 * initdb server, once for the real one).
 */
export function forLog(
  pattern: RegExp | string,
  times = 1,
  options: { timeoutMs?: number } = {},
): WaitStrategy {
  const regex = typeof pattern === "string" ? new RegExp(escapeRegExp(pattern)) : pattern;
  const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
  const flags = regex.flags.replaceAll("g", "");
  return {
    description: { kind: "log", pattern: regex.source, flags, times, timeoutMs },
    waitUntilReady: async (vm: Vm) => {
      const logs = vm.logs({ follow: true });
      const counter = countMatches(logs, new RegExp(regex.source, flags));
      const what = `the output matched /${regex.source}/ ${times} time(s)`;
      try {
        await pollUntil(vm, what, timeoutMs, async () => {
          const seen = await counter.next(times, 250);
          return seen >= times || `seen ${seen}`;
        });
      } finally {
        logs.destroy();
      }
    },
  };
}

/** Counts matching lines as they stream in; `next` waits a little for more. */
function countMatches(stream: Readable, regex: RegExp) {
  let seen = 0;
  let partial = "";
  let wake: (() => void) | undefined;
  stream.setEncoding("utf8");
  stream.on("data", (text: string) => {
    const lines = (partial + text).split("\n");
    partial = lines.pop() ?? "";
    seen += lines.filter((line) => regex.test(line)).length;
    wake?.();
  });
  stream.on("error", () => {});
  return {
    async next(enough: number, waitMs: number): Promise<number> {
      if (seen >= enough) return seen;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
      return seen;
    },
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
