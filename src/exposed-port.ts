import { createServer, type Server, type Socket } from "node:net";
import type { Duplex } from "node:stream";

export interface ExposedPort {
  /** Always 127.0.0.1: exposed ports are never reachable from other hosts. */
  host: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1 and bridges each accepted connection to a fresh
 * connection into the guest.
 */
export async function exposeTcp(
  connectGuest: () => Promise<Duplex>,
  hostPort: number,
): Promise<ExposedPort> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.pause();
    connectGuest().then(
      (guest) => bridge(socket, guest),
      () => socket.destroy(),
    );
  });
  await listen(server, hostPort);
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return {
    host: "127.0.0.1",
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function bridge(host: Socket, guest: Duplex): void {
  host.pipe(guest);
  guest.pipe(host);
  host.once("close", () => guest.destroy());
  guest.once("close", () => host.destroy());
  host.on("error", () => guest.destroy());
  guest.on("error", () => host.destroy());
  host.resume();
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port }, () => {
      server.removeListener("error", reject);
      resolve();
    });
  });
}
