const STYLES = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
} as const;

export type Style = keyof typeof STYLES;

/**
 * One output stream of the CLI. Colour only when the stream is a terminal,
 * `NO_COLOR` is unset or empty (no-color.org) and `TERM` is not `dumb`;
 * progress is redrawn in place only on a terminal.
 */
export class Terminal {
  readonly stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly isTty: boolean;
  readonly colours: boolean;

  constructor(stream: Terminal["stream"], env: NodeJS.ProcessEnv = process.env) {
    this.stream = stream;
    this.isTty = stream.isTTY === true;
    this.colours = this.isTty && !env.NO_COLOR && env.TERM !== "dumb";
  }

  /** Width to fit a redrawn line into; 80 when unknown. */
  get columns(): number {
    return this.stream.columns || 80;
  }

  paint(style: Style, text: string): string {
    if (!this.colours) return text;
    const [open, close] = STYLES[style];
    return `\x1b[${open}m${text}\x1b[${close}m`;
  }

  write(text: string): void {
    this.stream.write(text);
  }

  line(text = ""): void {
    this.stream.write(`${text}\n`);
  }
}

/** The CLI's two streams: results on `out`, progress and messages on `err`. */
export interface Io {
  out: Terminal;
  err: Terminal;
}

export function processIo(): Io {
  return { out: new Terminal(process.stdout), err: new Terminal(process.stderr) };
}
