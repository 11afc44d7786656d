// Time to pull an image from a registry on loopback and prepare its root
// filesystem, first time (empty cache) and cached, for redis and postgres.
// Writes bench/results/pull.json and prints a Markdown table.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { Image, Vm } from "../src/index.js";
import { registryWith, type TestImage } from "../test/support/test-images.js";
import { median } from "./support/stats.js";

const runs = Number(process.env.BENCH_RUNS ?? 3);
const images: TestImage[] = ["redis", "postgres"];

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
}

// Settle the accelerator first so no run pays for the probe.
await Vm.accelerator();
const registry = await registryWith(images);
const rows: Record<string, Record<string, number[]>> = {};
try {
  for (let run = 0; run < runs; run++) {
    // Interleave the images so drift on the machine hits both alike.
    for (const name of images) {
      const cache = await mkdtemp(join(tmpdir(), "sm-bench-cache-"));
      process.env.SUPERMACHINE_CACHE_DIR = cache;
      try {
        const row = rows[name] ?? {};
        rows[name] = row;
        const add = (key: string, ms: number) => {
          row[key] = [...(row[key] ?? []), ms];
        };

        const [image, pullCold] = await timed(() => Image.pull(registry.ref(name)));
        const [, rootfsCold] = await timed(() => image.prepare());
        const [again, pullCached] = await timed(() => Image.pull(registry.ref(name)));
        const [, rootfsCached] = await timed(() => again.prepare());
        add("pullColdMs", pullCold);
        add("rootfsColdMs", rootfsCold);
        add("pullCachedMs", pullCached);
        add("rootfsCachedMs", rootfsCached);
        process.stderr.write(
          `${name} run ${run + 1}: pull ${pullCold.toFixed(0)} ms, rootfs ${rootfsCold.toFixed(0)} ms\n`,
        );
      } finally {
        await rm(cache, { recursive: true, force: true });
      }
    }
  }
} finally {
  await registry.stop();
}

const result = {
  benchmark: "pull from a loopback registry and prepare the root filesystem",
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length },
  runs,
  images: Object.fromEntries(
    Object.entries(rows).map(([name, row]) => [
      name,
      Object.fromEntries(
        Object.entries(row).map(([key, values]) => [key, Math.round(median(values))]),
      ),
    ]),
  ),
  samples: rows,
};
await writeFile(
  join(import.meta.dirname, "results", "pull.json"),
  `${JSON.stringify(result, null, 2)}\n`,
);

console.log("| image | pull, first | rootfs, first | pull, cached | rootfs, cached |");
console.log("|---|---|---|---|---|");
for (const [name, m] of Object.entries(result.images)) {
  console.log(
    `| ${name} | ${m.pullColdMs} ms | ${m.rootfsColdMs} ms | ${m.pullCachedMs} ms | ${m.rootfsCachedMs} ms |`,
  );
}
