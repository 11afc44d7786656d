// Writes what the README shows from a results file: the chart and the
// section between the compare markers.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { chartPng } from "./chart.js";
import { readmeSection, rewriteReadme } from "./readme-section.js";
import type { CompareResult } from "./result.js";

export const root = join(import.meta.dirname, "..", "..");
export const resultsFile = join(root, "bench", "results", "compare.json");
const chartFile = join(root, "bench", "results", "compare.png");

/** Reads `resultsFile` and writes the chart and the README section from it alone. */
export async function publish(): Promise<CompareResult> {
  const result = JSON.parse(await readFile(resultsFile, "utf8")) as CompareResult;
  await writeFile(chartFile, chartPng(result));
  await rewriteReadme(join(root, "README.md"), readmeSection(result));
  return result;
}
