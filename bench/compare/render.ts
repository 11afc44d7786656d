// Writes the README section and the chart again from
// bench/results/compare.json, without measuring anything:
// `npx tsx bench/compare/render.ts`.
import { publish, resultsFile } from "./publish.js";
import { markdownTable } from "./table.js";

console.log(markdownTable(await publish()));
console.log(`\nREADME.md and the chart written from ${resultsFile}`);
