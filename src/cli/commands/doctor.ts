import { hostGuestArch } from "../../engine/guest-arch.js";
import { parseCommand, positionals } from "../args.js";
import type { Command } from "../command.js";
import {
  type Check,
  checkAccelerator,
  checkCache,
  checkGuest,
  checkNode,
  checkQemu,
  checkQemuImg,
  checkSetpriv,
  checkState,
} from "../doctor/checks.js";
import { ExitCode } from "../exit-codes.js";
import { printJson } from "../output/table.js";
import type { Io, Style } from "../output/terminal.js";

const STATUS_STYLE: Record<Check["status"], Style> = {
  ok: "green",
  warn: "yellow",
  fail: "red",
  skip: "dim",
};

export const doctor: Command = {
  name: "doctor",
  summary: "check QEMU, the accelerator, guest assets and the cache",
  usage: "doctor [--json]",
  description:
    "Checks what running VMs needs and says how to fix what is wrong: QEMU's path\n" +
    "and version, qemu-img, setpriv, the accelerator and why it was chosen, the\n" +
    "guest kernel and agent, the cache's location and size, and the CLI's state\n" +
    "directory. The accelerator probe boots a VM once, then its verdict is cached.\n" +
    "Exits 1 when a check fails; warnings do not change the exit code.",
  options: [["--json", "print one JSON object instead of lines"]],
  examples: ["supermachine doctor", "supermachine doctor --json | jq .accelerator"],
  async run(argv: string[], io: Io): Promise<number> {
    const { values, positionals: given } = parseCommand("doctor", argv, {
      json: { type: "boolean" },
    });
    positionals("doctor", given, []);
    const arch = hostGuestArch();
    const [qemuCheck, qemu] = await checkQemu(arch);
    const [guestCheck, assets] = await checkGuest(arch);
    const [accelCheck, verdict] = await checkAccelerator(
      qemu !== undefined && assets !== undefined,
    );
    const [cacheCheck, cache] = await checkCache();
    const checks = [
      checkNode(),
      qemuCheck,
      await checkQemuImg(qemu),
      await checkSetpriv(),
      guestCheck,
      accelCheck,
      cacheCheck,
      await checkState(),
    ];
    const ok = checks.every((check) => check.status !== "fail");

    if (values.json) {
      printJson(io.out, {
        ok,
        arch,
        qemu: qemu ?? null,
        accelerator: verdict ?? null,
        guest: assets ?? null,
        cache,
        checks,
      });
    } else {
      const width = Math.max(...checks.map((check) => check.name.length));
      for (const check of checks) {
        const status = io.out.paint(STATUS_STYLE[check.status], check.status.padEnd(4));
        io.out.line(`${status}  ${check.name.padEnd(width)}  ${check.detail}`);
        if (check.fix) io.out.line(`${" ".repeat(width + 8)}fix: ${check.fix}`);
      }
    }
    return ok ? ExitCode.ok : ExitCode.failure;
  },
};
