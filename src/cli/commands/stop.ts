import { setTimeout as sleep } from "node:timers/promises";
import { isAlive } from "../../util/process-alive.js";
import { parseCommand, positionals } from "../args.js";
import type { Command } from "../command.js";
import { controlRequest } from "../control/control-client.js";
import { CliError, ExitCode } from "../exit-codes.js";
import type { Io } from "../output/terminal.js";
import { findVmRecord, type VmRecord } from "../state/vm-records.js";

// The workload gets 10 s to stop before SIGKILL; the VM a little more.
const EXIT_DEADLINE_MS = 20_000;

export const stop: Command = {
  name: "stop",
  summary: "stop running VMs",
  usage: "stop ID...",
  description:
    "Stops each VM: its workload gets the image's stop signal, then SIGKILL after\n" +
    "10 s, then the VM is shut down and its entry removed. Prints each id once\n" +
    "the VM and its process are gone.",
  options: [],
  examples: ["supermachine stop 3f2a", "supermachine stop $(supermachine ps -q)"],
  async run(argv: string[], io: Io): Promise<number> {
    const { positionals: given } = parseCommand("stop", argv, {});
    const ids = positionals("stop", given, ["ID"], { variadic: true });
    for (const id of ids) {
      const record = await findVmRecord(id);
      await stopVm(record);
      io.out.line(record.id);
    }
    return ExitCode.ok;
  },
};

async function stopVm(record: VmRecord): Promise<void> {
  try {
    const socket = await controlRequest(record, { op: "stop" });
    socket.destroy();
  } catch (error) {
    // No answer on the socket (its owner is wedged or starting): a signal
    // makes the owner stop the VM the same way.
    if (!(error instanceof CliError) || !isAlive(record.pid)) throw error;
    process.kill(record.pid, "SIGTERM");
  }
  const deadline = Date.now() + EXIT_DEADLINE_MS;
  while (isAlive(record.pid)) {
    if (Date.now() > deadline) {
      throw new CliError(`VM ${record.id}'s process (pid ${record.pid}) did not exit in time.`);
    }
    await sleep(50);
  }
}
