import type { Vm } from "../vm.js";
import { DEFAULT_WAIT_MS, pollUntil, type WaitStrategy } from "./wait-strategy.js";

/** Ready when something in the guest accepts TCP connections on `port`. */
export function forPort(port: number, options: { timeoutMs?: number } = {}): WaitStrategy {
  const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
  return {
    description: { kind: "port", port, timeoutMs },
    waitUntilReady: (vm: Vm) =>
      pollUntil(vm, `guest port ${port} accepts connections`, timeoutMs, async () => {
        const socket = await vm.connect(port);
        socket.destroy();
        return true;
      }),
  };
}
