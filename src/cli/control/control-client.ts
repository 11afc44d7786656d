import { connect, type Socket } from "node:net";
import { CliError } from "../exit-codes.js";
import { controlSocket, type VmRecord } from "../state/vm-records.js";
import { readJsonLine, writeJsonLine } from "./frames.js";

/**
 * Sends one request to a VM's control socket and reads the reply header.
 * On `ok` the socket is handed back for what follows (frames or bytes);
 * otherwise the VM's error becomes a `CliError`.
 */
export async function controlRequest(
  record: VmRecord,
  request: Record<string, unknown>,
): Promise<Socket> {
  const socket = await open(record);
  writeJsonLine(socket, request);
  const reply = await readJsonLine(socket).catch((error: Error) => {
    socket.destroy();
    throw new CliError(`VM ${record.id} did not answer: ${error.message}`);
  });
  if (reply.ok === true) return socket;
  socket.destroy();
  throw new CliError(String(reply.message ?? `VM ${record.id} refused the request`));
}

function open(record: VmRecord): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(controlSocket(record.id));
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      const why = error.code === "ENOENT" ? "it has no control socket yet" : error.message;
      reject(new CliError(`Cannot reach VM ${record.id} (pid ${record.pid}): ${why}.`));
    });
  });
}
