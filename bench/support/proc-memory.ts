// Memory of host processes from /proc (Linux only, as the benchmarks are).
import { readdir, readFile } from "node:fs/promises";

export interface Memory {
  pssKiB: number;
  rssKiB: number;
}

/**
 * PSS and RSS from /proc/<pid>/smaps_rollup. PSS divides each shared page
 * among the processes that map it, so the PSS of processes sharing pages
 * (clones of one snapshot, containers of one image) adds up to what they
 * cost together.
 */
export async function memoryOf(pid: number): Promise<Memory> {
  const text = await readFile(`/proc/${pid}/smaps_rollup`, "utf8");
  const field = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text);
    if (!match?.[1]) throw new Error(`no ${name} line in /proc/${pid}/smaps_rollup`);
    return Number(match[1]);
  };
  return { pssKiB: field("Pss"), rssKiB: field("Rss") };
}

/** The sum over several processes; one that exited meanwhile counts nothing. */
export async function memoryOfAll(pids: number[]): Promise<Memory> {
  const each = await Promise.all(pids.map((pid) => memoryOf(pid).catch(() => undefined)));
  return sumMemory(each.filter((memory) => memory !== undefined));
}

export function sumMemory(parts: Memory[]): Memory {
  return {
    pssKiB: parts.reduce((sum, memory) => sum + memory.pssKiB, 0),
    rssKiB: parts.reduce((sum, memory) => sum + memory.rssKiB, 0),
  };
}

/** `pid` and every process below it, from the parent pid in /proc/<pid>/stat. */
export async function processTree(pid: number): Promise<number[]> {
  const children = new Map<number, number[]>();
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, "utf8").catch(() => undefined);
    if (stat === undefined) continue; // exited while we looked
    const parent = parentFromStat(stat);
    children.set(parent, [...(children.get(parent) ?? []), Number(name)]);
  }
  const tree: number[] = [];
  const visit = (node: number) => {
    tree.push(node);
    for (const child of children.get(node) ?? []) visit(child);
  };
  visit(pid);
  return tree;
}

/** The parent pid of `pid`. */
export async function parentOf(pid: number): Promise<number> {
  return parentFromStat(await readFile(`/proc/${pid}/stat`, "utf8"));
}

// The command name in parentheses may hold spaces: the fields after its
// closing parenthesis are the state, then the parent pid.
function parentFromStat(stat: string): number {
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}
