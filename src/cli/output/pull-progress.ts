import type { LayerProgress } from "../../oci/index.js";
import { formatBytes, formatDuration, formatRate, shortDigest } from "./format.js";
import { bar, LiveBlock } from "./live-line.js";
import type { Terminal } from "./terminal.js";

interface LayerState {
  progress: LayerProgress;
  started: number;
  ended?: number;
}

/** What a pull did, for its summary line. */
export interface PullTotals {
  layers: number;
  downloaded: number;
  cached: number;
  ms: number;
}

/**
 * Shows a pull layer by layer. On a terminal each layer has a line with a
 * bar, its bytes and its rate, redrawn as bytes arrive; elsewhere one plain
 * line is printed as each layer is finished or found in the store.
 */
export class PullProgressView {
  readonly #term: Terminal;
  readonly #block: LiveBlock | undefined;
  readonly #layers = new Map<string, LayerState>();
  readonly #now: () => number;
  readonly #started: number;

  /** `now` is the clock rates are computed with (milliseconds). */
  constructor(term: Terminal, now: () => number = Date.now) {
    this.#term = term;
    this.#now = now;
    this.#started = now();
    this.#block = term.isTty ? new LiveBlock(term) : undefined;
  }

  readonly update = (progress: LayerProgress): void => {
    const known = this.#layers.get(progress.digest);
    const state = known ?? { progress, started: this.#now() };
    state.progress = progress;
    const finished = progress.status !== "downloading";
    if (finished) state.ended = this.#now();
    this.#layers.set(progress.digest, state);
    if (this.#block) this.#block.draw(this.#lines(), finished || !known);
    else if (finished) this.#term.line(this.#line(state));
  };

  /** Draws the final state and returns the totals. */
  finish(): PullTotals {
    this.#block?.draw(this.#lines(), true);
    let downloaded = 0;
    let cached = 0;
    for (const { progress } of this.#layers.values()) {
      if (progress.status === "cached") cached += progress.size;
      else downloaded += progress.received;
    }
    const ms = this.#now() - this.#started;
    return { layers: this.#layers.size, downloaded, cached, ms };
  }

  #lines(): string[] {
    return [...this.#layers.values()].map((state) => this.#line(state));
  }

  #line({ progress, started, ended }: LayerState): string {
    const id = shortDigest(progress.digest);
    const size = formatBytes(progress.size);
    const ms = (ended ?? this.#now()) - started;
    const rate = formatRate(progress.received, ms);
    switch (progress.status) {
      case "cached":
        return `${id}  ${this.#term.paint("dim", `already present  ${size}`)}`;
      case "done":
        return `${id}  ${this.#term.paint("green", "done")}  ${size} in ${formatDuration(ms)}, ${rate}`;
      default: {
        const fraction = progress.size > 0 ? progress.received / progress.size : 0;
        const got = formatBytes(progress.received);
        return `${id}  ${bar(fraction)}  ${got} / ${size}  ${rate}`;
      }
    }
  }
}
