import type { Terminal } from "./terminal.js";

// Redrawing more often than this only costs CPU; the eye sees no difference.
const REDRAW_MS = 100;

/**
 * A block of lines redrawn in place on a terminal: the cursor goes back to
 * the block's first line, each line is cleared and written again. Lines are
 * cut to the terminal's width so that none wraps and breaks the count.
 */
export class LiveBlock {
  readonly #term: Terminal;
  #drawn = 0;
  #last = 0;

  constructor(term: Terminal) {
    this.#term = term;
  }

  /** Draws `lines`, unless the last draw was too recent and `force` is not set. */
  draw(lines: string[], force = false): void {
    const now = Date.now();
    if (!force && now - this.#last < REDRAW_MS) return;
    this.#last = now;
    const width = this.#term.columns - 1;
    let text = this.#drawn > 0 ? `\x1b[${this.#drawn}F` : "";
    for (const line of lines) text += `\x1b[2K${cut(line, width)}\n`;
    this.#term.write(text);
    this.#drawn = lines.length;
  }
}

/** Cuts by visible characters, leaving colour escapes whole. */
export function cut(line: string, width: number): string {
  let visible = 0;
  let out = "";
  for (let i = 0; i < line.length; i++) {
    if (line[i] === "\x1b") {
      const end = line.indexOf("m", i);
      if (end !== -1) {
        out += line.slice(i, end + 1);
        i = end;
        continue;
      }
    }
    if (visible === width) continue;
    out += line[i];
    visible++;
  }
  return out;
}

/** A text progress bar: `[=======>        ]`. */
export function bar(fraction: number, width = 24): string {
  const clamped = Math.min(1, Math.max(0, fraction));
  const filled = Math.floor(clamped * width);
  const head = filled < width && clamped > 0 ? ">" : "";
  return `[${"=".repeat(filled)}${head}${" ".repeat(width - filled - head.length)}]`;
}

/** Length as seen on screen: without colour escapes. */
export function visibleLength(text: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching escapes is the point
  return text.replace(/\x1b\[[0-9;]*m/g, "").length;
}
