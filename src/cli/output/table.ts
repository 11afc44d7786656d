import type { Terminal } from "./terminal.js";

/**
 * Prints rows under a header, each column as wide as its widest cell, as
 * `docker ps` does. Nothing but the header when there are no rows.
 */
export function printTable(out: Terminal, header: string[], rows: string[][]): void {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const format = (cells: string[]) =>
    cells
      .map((cell, column) =>
        column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0),
      )
      .join("   ")
      .trimEnd();
  out.line(out.paint("bold", format(header)));
  for (const row of rows) out.line(format(row));
}

/** `--json` output: pretty, so that it is also readable. */
export function printJson(out: Terminal, value: unknown): void {
  out.line(JSON.stringify(value, null, 2));
}
