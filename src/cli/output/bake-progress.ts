import type { BakeProgress } from "../../snapshot/bake.js";
import { formatBytes, formatDuration } from "./format.js";
import { cut, visibleLength } from "./live-line.js";
import type { Terminal } from "./terminal.js";

type Step = BakeProgress["step"];

// The order a bake goes through; `setup` is skipped by the CLI, which has
// no setup function to run.
const ORDER: Step[] = ["pull", "rootfs", "boot", "ready", "snapshot"];
const SAYS: Partial<Record<Step, string>> = {
  pull: "pulling",
  rootfs: "building the root filesystem",
  boot: "booting",
  ready: "waiting until ready",
  snapshot: "saving the snapshot",
};

/**
 * A bake as stages: pull, rootfs, boot, ready, snapshot. On a terminal one
 * line is redrawn with `\r` as each stage ends, naming the one under way;
 * elsewhere each finished stage gets a line of its own.
 */
export class BakeProgressView {
  readonly #term: Terminal;
  readonly #done: string[] = [];
  #current: Step = "pull";
  #detail = "";

  constructor(term: Terminal) {
    this.#term = term;
    this.#redraw();
  }

  /** Bytes of the pull so far, shown beside the running stage. */
  pullBytes(received: number): void {
    this.#detail = formatBytes(received);
    this.#redraw();
  }

  readonly step = (progress: BakeProgress): void => {
    if (progress.step === "cached") return;
    const bytes = progress.bytes === undefined ? "" : ` (${formatBytes(progress.bytes)})`;
    const text = `${progress.step} ${formatDuration(progress.ms)}${bytes}`;
    this.#done.push(text);
    const next = ORDER[ORDER.indexOf(progress.step) + 1];
    this.#current = next ?? progress.step;
    this.#detail = "";
    if (this.#term.isTty) this.#redraw(next === undefined);
    else this.#term.line(`${progress.step.padEnd(9)}${text.slice(progress.step.length + 1)}`);
  };

  /** Ends the redrawn line, so that what follows starts on a fresh one. */
  finish(): void {
    if (this.#term.isTty) this.#term.write("\n");
  }

  #redraw(final = false): void {
    if (!this.#term.isTty) return;
    const check = this.#term.paint("green", "✔");
    const parts = this.#done.map((text) => `${check} ${text}`);
    if (!final) {
      const detail = this.#detail ? ` ${this.#detail}` : "";
      parts.push(this.#term.paint("cyan", `${SAYS[this.#current] ?? this.#current}…${detail}`));
    }
    // Earlier stages give way first when the line would wrap, since a
    // wrapped line cannot be redrawn with \r.
    const width = this.#term.columns - 1;
    while (parts.length > 1 && visibleLength(parts.join("  ")) > width) parts.shift();
    this.#term.write(`\r\x1b[2K${cut(parts.join("  "), width)}`);
  }
}
