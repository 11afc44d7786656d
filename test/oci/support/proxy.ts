import { createServer, type IncomingMessage, request } from "node:http";
import { freePort } from "./free-port.js";

/** What the proxy does to one request instead of passing it through. */
export type Fault =
  | "corrupt"
  | "cut"
  | { status: number; retryAfter?: string }
  | { redirect: string };

export interface FaultProxy {
  host: string;
  /** `METHOD /path` of every request received, in order. */
  requests: string[];
  /** Decides per request; `undefined` passes it through untouched. */
  fault: (req: IncomingMessage) => Fault | undefined;
  stop(): Promise<void>;
}

/**
 * A loopback HTTP proxy in front of a registry that counts requests and can
 * corrupt a body, cut the connection half-way through one, or answer with an
 * error status, to exercise the client's verification and retries.
 */
export async function startProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  const proxy: FaultProxy = {
    host: "",
    requests: [],
    fault: () => undefined,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const server = createServer((req, res) => {
    proxy.requests.push(`${req.method} ${req.url}`);
    const fault = proxy.fault(req);
    if (typeof fault === "object" && "redirect" in fault) {
      res.writeHead(307, { location: fault.redirect }).end();
      return;
    }
    if (typeof fault === "object") {
      const headers = fault.retryAfter ? { "retry-after": fault.retryAfter } : {};
      res.writeHead(fault.status, headers).end();
      return;
    }
    const upstreamReq = request(
      {
        host: target.hostname,
        port: target.port,
        path: req.url,
        method: req.method,
        headers: req.headers,
      },
      (up) => {
        const chunks: Buffer[] = [];
        up.on("data", (c: Buffer) => chunks.push(c));
        up.on("end", () => {
          const body = Buffer.concat(chunks);
          if (fault === "corrupt" && body.length > 0) {
            const at = body.length >> 1;
            body.writeUInt8((body[at] ?? 0) ^ 0xff, at);
          }
          res.writeHead(up.statusCode ?? 502, up.headers);
          if (fault === "cut" && body.length > 1) {
            res.write(body.subarray(0, body.length >> 1), () => res.socket?.destroy());
            return;
          }
          res.end(body);
        });
      },
    );
    req.pipe(upstreamReq);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  proxy.host = `127.0.0.1:${port}`;
  return proxy;
}
