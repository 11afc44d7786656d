import type { GuestSocket } from "../guest-socket.js";
import type { Vm } from "../vm.js";
import { DEFAULT_WAIT_MS, pollUntil, type WaitStrategy } from "./wait-strategy.js";

export interface HttpWaitOptions {
  /** Guest port the server listens on. */
  port: number;
  /** The status that means ready. Default 200. */
  status?: number;
  timeoutMs?: number;
}

/**
 * Ready when `GET path` on the guest port answers with the expected status.
 * The request goes through the agent, so nothing has to be exposed first.
 */
export function forHttp(path: string, options: HttpWaitOptions): WaitStrategy {
  const status = options.status ?? 200;
  const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
  const { port } = options;
  return {
    description: { kind: "http", port, path, status, timeoutMs },
    waitUntilReady: (vm: Vm) =>
      pollUntil(vm, `GET ${path} on guest port ${port} answers ${status}`, timeoutMs, async () => {
        const got = await statusOf(await vm.connect(port), path);
        return got === status || `status ${got}`;
      }),
  };
}

/** Sends a minimal HTTP/1.1 request and reads the status line. */
function statusOf(socket: GuestSocket, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let head = "";
    socket.setEncoding("latin1");
    socket.on("data", (text: string) => {
      head += text;
      const line = head.split("\r\n")[0] ?? "";
      if (head.includes("\r\n") || head.length > 1024) {
        socket.destroy();
        const match = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(line);
        if (match) resolve(Number(match[1]));
        else reject(new Error(`not an HTTP answer: ${JSON.stringify(line.slice(0, 80))}`));
      }
    });
    socket.on("error", reject);
    socket.on("end", () => reject(new Error("the connection closed without an answer")));
    socket.end(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
  });
}
