// Cold boot of a scratch VM: from `Vm.boot()` (QEMU spawn) to the first
// successful exec, median of 10 runs. Writes bench/results/boot.json and
// prints a Markdown table for the README.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Vm } from "../src/index.js";
import { describeMachine } from "./support/machine.js";
import { percentile } from "./support/stats.js";

const runs = Number(process.env.BENCH_RUNS ?? 10);

// One untimed boot first so the accelerator verdict is cached and the
// kernel and initramfs are in the page cache, as they are in a test run.
await (await Vm.boot()).stop();

const bootMs: number[] = [];
const handshakeMs: number[] = [];
let accel = "";
for (let i = 0; i < runs; i++) {
  const started = performance.now();
  const vm = await Vm.boot();
  const booted = performance.now();
  const out = await vm.exec(["true"]);
  const firstExec = performance.now();
  if (out.exitCode !== 0) throw new Error(`exec failed: ${JSON.stringify(out)}`);
  accel = vm.accel;
  await vm.stop();
  handshakeMs.push(booted - started);
  bootMs.push(firstExec - started);
  process.stderr.write(`run ${i + 1}/${runs}: ${(firstExec - started).toFixed(0)} ms\n`);
}

const result = {
  benchmark: "cold boot: Vm.boot() to first successful exec",
  date: new Date().toISOString(),
  machine: await describeMachine(),
  accel,
  runs,
  medianMs: Math.round(percentile(bootMs, 50)),
  p90Ms: Math.round(percentile(bootMs, 90)),
  minMs: Math.round(Math.min(...bootMs)),
  medianHandshakeMs: Math.round(percentile(handshakeMs, 50)),
  samplesMs: bootMs.map((ms) => Math.round(ms)),
};
const file = join(import.meta.dirname, "results", "boot.json");
await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);

console.log(`| accelerator | runs | median | p90 | min |`);
console.log(`|---|---|---|---|---|`);
console.log(
  `| ${accel} | ${runs} | ${result.medianMs} ms | ${result.p90Ms} ms | ${result.minMs} ms |`,
);
console.log(`\nwritten to ${file}`);
