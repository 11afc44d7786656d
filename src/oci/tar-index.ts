import { open } from "node:fs/promises";
import { SupermachineError } from "../errors.js";

export interface TarEntry {
  /** Byte offset of the entry's data in the archive. */
  offset: number;
  size: number;
}

const BLOCK = 512;

/**
 * Lists the regular files of a tar archive (ustar, with pax and GNU long
 * names) by name, with where their data lies, so callers can stream just the
 * files they need. Reads only the headers.
 */
export async function indexTar(path: string): Promise<Map<string, TarEntry>> {
  const entries = new Map<string, TarEntry>();
  const file = await open(path, "r");
  try {
    const header = Buffer.alloc(BLOCK);
    let position = 0;
    let longName: string | undefined;
    for (;;) {
      const { bytesRead } = await file.read(header, 0, BLOCK, position);
      if (bytesRead < BLOCK || header.every((b) => b === 0)) break;
      const size = readSize(header, path);
      const type = String.fromCharCode(header[156] ?? 0);
      const dataAt = position + BLOCK;
      position = dataAt + Math.ceil(size / BLOCK) * BLOCK;

      if (type === "x" || type === "L") {
        const data = Buffer.alloc(size);
        await file.read(data, 0, size, dataAt);
        longName = type === "L" ? cString(data, 0, size) : (paxPath(data) ?? longName);
        continue;
      }
      const name = normalise(longName ?? ustarName(header));
      longName = undefined;
      if (type === "0" || type === "\0" || type === "7")
        entries.set(name, { offset: dataAt, size });
    }
  } finally {
    await file.close();
  }
  return entries;
}

function ustarName(header: Buffer): string {
  const name = cString(header, 0, 100);
  const isUstar = header.toString("latin1", 257, 262) === "ustar";
  const prefix = isUstar ? cString(header, 345, 155) : "";
  return prefix ? `${prefix}/${name}` : name;
}

function readSize(header: Buffer, path: string): number {
  // GNU base-256 encoding for sizes over 8 GiB: high bit of the first byte set.
  if ((header[124] ?? 0) & 0x80) {
    let size = 0;
    for (let i = 125; i < 136; i++) size = size * 256 + (header[i] ?? 0);
    return size;
  }
  const text = cString(header, 124, 12).trim();
  const size = text === "" ? 0 : Number.parseInt(text, 8);
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new SupermachineError("INVALID_IMAGE", `${path} is not a valid tar archive.`);
  }
  return size;
}

function cString(buffer: Buffer, start: number, length: number): string {
  const end = buffer.indexOf(0, start);
  return buffer.toString("utf8", start, end === -1 || end > start + length ? start + length : end);
}

// Pax records are "<length> <key>=<value>\n"; only the path matters here.
function paxPath(data: Buffer): string | undefined {
  let at = 0;
  let path: string | undefined;
  while (at < data.length) {
    const space = data.indexOf(32, at);
    const length = Number.parseInt(data.toString("latin1", at, space), 10);
    if (space === -1 || !(length > 0)) break;
    const record = data.toString("utf8", space + 1, at + length - 1);
    const eq = record.indexOf("=");
    if (record.slice(0, eq) === "path") path = record.slice(eq + 1);
    at += length;
  }
  return path;
}

function normalise(name: string): string {
  return name.replace(/^(\.\/)+/, "").replace(/^\/+/, "");
}
