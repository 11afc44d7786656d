import { formatAge } from "../output/format.js";
import type { Io } from "../output/terminal.js";
import type { PortMapping } from "../state/vm-records.js";
import type { VmSource } from "../vm-source.js";

/** Says how the VM starts: restored from a snapshot, or booted cold. */
export function announceStart(io: Io, source: VmSource): void {
  if (source.kind === "snapshot") {
    const { entry } = source;
    io.err.line(
      `Starting ${source.text} from snapshot (${entry.image}, baked ${formatAge(entry.createdAt)})`,
    );
  } else {
    io.err.line(`Booting ${source.text} (cold boot, no snapshot)`);
  }
}

export function announcePorts(io: Io, ports: PortMapping[]): void {
  for (const { host, guest } of ports) {
    io.err.line(`Forwarding 127.0.0.1:${host} -> guest port ${guest}`);
  }
}
