// The README section between the compare markers, written from the
// results file alone, and the rewrite of that section in place.
import { readFile, writeFile } from "node:fs/promises";
import { duration } from "./format.js";
import { type CompareResult, SERVICES } from "./result.js";
import { markdownTable } from "./table.js";
import { acceleratorNote, poolAdvantage, whereDockerWins } from "./verdict.js";

const START = "<!-- compare:start -->";
const END = "<!-- compare:end -->";

function provenance(result: CompareResult): string {
  const { machine } = result;
  const docker = machine.docker;
  const load = machine.loadAverage1mDuringRun;
  return (
    `Measured ${result.date.slice(0, 10)} in one run of \`npm run bench:compare\` ` +
    `(\`bench/results/compare.json\`) on ${machine.cpu}, ${machine.cores} cores, ` +
    `${machine.memoryGiB} GiB, Linux ${machine.kernel}: QEMU ${machine.qemu} with ` +
    `\`${result.accel}\`; Docker ${docker.version} (containerd ${docker.containerd}, ` +
    `runc ${docker.runc}, ${docker.storageDriver} storage) with testcontainers ` +
    `${machine.testcontainers}; Node ${machine.node}. Medians / p90 of ` +
    `${result.samples} samples (${result.parallelSamples} for the parallel tests), the ` +
    `three systems interleaved; the 1-minute load average was ${load.min} to ${load.max}.`
  );
}

function oneTimeSentence(result: CompareResult): string {
  const parts = SERVICES.map((service) => {
    const { supermachine: sm, docker } = result.services[service].oneTime;
    return (
      `for ${service}, supermachine pull ${duration(sm.pullMs)} + root filesystem ` +
      `${duration(sm.rootfsMs)} + bake ${duration(sm.bakeMs)} + first clone ` +
      `${duration(sm.firstCloneMs)} = ${duration(sm.totalMs)}, Docker pull ` +
      `${duration(docker.pullMs)} + first container ${duration(docker.firstStartMs)} = ` +
      `${duration(docker.totalMs)}`
    );
  });
  return `The one-time cost, from an empty cache on both sides: ${parts.join("; ")}.`;
}

function method(result: CompareResult): string {
  const driver = result.machine.docker.storageDriver;
  const baseline = result.engineBaselinePssMiB;
  return (
    "How it is measured: the same images (Debian-built redis, postgres 15 and nginx) " +
    "from one registry on loopback; a test is a fresh instance, one client operation " +
    "(PING, `SELECT 1`, `GET /`) and its teardown. The pool figures start from a full " +
    "pool, so they show what a test waits for when the pool keeps up; the clone " +
    "figures are the on-demand path. testcontainers runs each container with the " +
    "wait strategy of its module for the service (its HTTP wait for nginx), on the " +
    "host network (the fastest Docker networking; the engine has no bridge) and the " +
    `\`${driver}\` storage driver, which copies an image's layers for every container ` +
    "where `overlay2` would share them: container start times and page-cache sharing " +
    "are worse for Docker here than on a usual Docker host. Docker's memory figure " +
    `leaves out the engine itself, whose PSS was ${baseline.dockerd} MiB (dockerd) and ` +
    `${baseline.containerd} MiB (containerd).`
  );
}

// A line that began with one of these would turn the paragraph into a list,
// a heading, a quote or a table.
const BLOCK_START = /^([-+*#>|]|\d+[.)])$/;

// A unit stays on the line of its number.
const UNIT = /^(ms|s|MiB|GiB)[,;.):]*$/;

/** Breaks a paragraph into lines of at most `width` characters, at spaces. */
function wrap(paragraph: string, width = 80): string {
  const words: string[] = [];
  for (const word of paragraph.split(" ")) {
    const last = words.length - 1;
    if (UNIT.test(word) && last >= 0) words[last] = `${words[last]} ${word}`;
    else words.push(word);
  }
  const lines: string[] = [];
  let line = "";
  for (const word of words) {
    if (line && line.length + 1 + word.length > width && !BLOCK_START.test(word)) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines.join("\n");
}

const CHART =
  "![supermachine and testcontainers on Docker: start, parallel tests and memory]" +
  "(bench/results/compare.png)";

export function readmeSection(result: CompareResult): string {
  return [
    wrap(provenance(result)),
    CHART,
    markdownTable(result),
    wrap(`${poolAdvantage(result)} ${whereDockerWins(result)}`),
    wrap(acceleratorNote(result)),
    wrap(oneTimeSentence(result)),
    wrap(method(result)),
  ].join("\n\n");
}

/** Replaces what lies between the compare markers in `readme`, and nothing else. */
export async function rewriteReadme(readme: string, section: string): Promise<void> {
  const text = await readFile(readme, "utf8");
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) {
    throw new Error(`${readme} has no ${START} … ${END} markers to write between`);
  }
  const updated = `${text.slice(0, start + START.length)}\n${section}\n${text.slice(end)}`;
  await writeFile(readme, updated);
}
