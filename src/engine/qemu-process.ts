import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import type { Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { SupermachineError } from "../errors.js";
import { debugFor } from "../util/debug.js";
import { connectUnix } from "./qmp-client.js";

const SETPRIV = "/usr/bin/setpriv";
const KEEP_CONSOLE_BYTES = 64 * 1024;

export interface QemuExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * One QEMU process. On Linux it is started through `setpriv --pdeathsig KILL`
 * so the kernel kills it when this process dies, however it dies; the guest
 * agent's grace-period power-off covers the other platforms.
 */
export class QemuProcess {
  readonly pid: number;
  readonly exited: Promise<QemuExit>;
  readonly #child: ChildProcess;
  readonly #log: ReturnType<typeof debugFor>;
  #console = "";
  #stderr = "";
  #exit: QemuExit | undefined;

  private constructor(child: ChildProcess, scope: string) {
    if (child.pid === undefined) throw new Error("spawn returned no pid");
    this.pid = child.pid;
    this.#child = child;
    this.#log = debugFor("qemu", scope);
    child.stdout?.setEncoding("utf8").on("data", (text: string) => {
      this.#console = (this.#console + text).slice(-KEEP_CONSOLE_BYTES);
    });
    child.stderr?.setEncoding("utf8").on("data", (text: string) => {
      this.#stderr = (this.#stderr + text).slice(-KEEP_CONSOLE_BYTES);
      this.#log("stderr: %s", text.trimEnd());
    });
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.#exit = { code, signal };
        this.#log("exited code=%s signal=%s", code, signal);
        resolve(this.#exit);
      });
    });
  }

  static async spawn(binary: string, args: string[], scope: string): Promise<QemuProcess> {
    const useSetpriv = process.platform === "linux" && existsSync(SETPRIV);
    const [command, argv] = useSetpriv
      ? [SETPRIV, ["--pdeathsig", "KILL", "--", binary, ...args]]
      : [binary, args];
    debugFor("qemu", scope)("spawn %s %s", binary, args.join(" "));
    const child = spawn(command, argv, { stdio: ["ignore", "pipe", "pipe"] });
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", (cause) =>
        reject(new SupermachineError("QEMU_NOT_FOUND", `Could not start ${binary}.`, { cause })),
      );
    });
    return new QemuProcess(child, scope);
  }

  get hasExited(): boolean {
    return this.#exit !== undefined;
  }

  /** The last `lines` lines the guest printed on its serial console. */
  consoleTail(lines = 20): string {
    return this.#console.split(/\r?\n/).slice(-lines).join("\n").trim();
  }

  /** What QEMU itself printed on stderr (its own errors). */
  get stderr(): string {
    return this.#stderr.trim();
  }

  /** Connects to a unix socket QEMU serves, retrying until it exists. */
  async connectSocket(path: string, deadline: number, what: string): Promise<Socket> {
    for (;;) {
      if (this.#exit) throw this.exitError(`before ${what} was ready`);
      try {
        return await connectUnix(path);
      } catch (error) {
        if (Date.now() > deadline) {
          throw new SupermachineError("BOOT_TIMEOUT", `QEMU did not open ${what} in time.`, {
            cause: error,
          });
        }
        await sleep(5);
      }
    }
  }

  /** QEMU_EXITED, led by QEMU's own first error line, which is usually the cause. */
  exitError(when: string): SupermachineError {
    const how = this.#exit?.signal ? `signal ${this.#exit.signal}` : `code ${this.#exit?.code}`;
    const said = this.stderr;
    const first = said.split("\n")[0];
    const detail = said ? `: ${first}${said.includes("\n") ? `\nQEMU said:\n${said}` : ""}` : ".";
    return new SupermachineError("QEMU_EXITED", `QEMU exited with ${how} ${when}${detail}`);
  }

  /** SIGKILL without waiting: for `exit` handlers, which cannot wait. */
  killNow(): void {
    if (!this.#exit) this.#child.kill("SIGKILL");
  }

  /** SIGKILL, then wait for the exit. Safe to call more than once. */
  async kill(): Promise<QemuExit> {
    if (!this.#exit) this.#child.kill("SIGKILL");
    return this.exited;
  }
}
