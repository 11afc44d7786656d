import { closeSync, writeSync } from "node:fs";
import { SupermachineError } from "../../errors.js";
import { CliError, ExitCode } from "../exit-codes.js";
import { type OwnerReport, REPORT_FD } from "../run/detached.js";
import { type OwnerSpec, VmOwner } from "../vm-owner.js";
import { loadSource, resolveSource } from "../vm-source.js";

const SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/**
 * The background process of `run -d` (not a user command): starts the VM,
 * reports on its pipe, then owns the VM until it is stopped, by `stop`, a
 * signal, or its workload exiting under `--rm`.
 */
export async function own(argv: string[]): Promise<number> {
  const spec = JSON.parse(argv[0] ?? "{}") as OwnerSpec;
  let owner: VmOwner;
  try {
    owner = await VmOwner.start(spec, await loadSource(await resolveSource(spec.source)));
  } catch (error) {
    const code = error instanceof SupermachineError ? error.code : "ERROR";
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    report({ ok: false, code, message: message ?? "unknown error" });
    return error instanceof CliError ? error.exitCode : ExitCode.supermachine;
  }
  report({ ok: true, record: owner.record });

  const stop = () => owner.stop().catch(() => undefined);
  for (const signal of SIGNALS) process.on(signal, stop);
  await owner.ended;
  return ExitCode.ok;
}

function report(message: OwnerReport): void {
  try {
    writeSync(REPORT_FD, JSON.stringify(message));
    closeSync(REPORT_FD);
  } catch {
    // The `run -d` that started us is gone (EPIPE); the state file tells the rest.
  }
}
