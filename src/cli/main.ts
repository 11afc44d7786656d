#!/usr/bin/env node
import { main } from "./cli.js";
import { processIo } from "./output/terminal.js";

// `supermachine images | head -1`: the reader has what it wanted once it
// closes the pipe, so the rest of the output is dropped without a trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    process.exit(process.exitCode ?? 0);
  });
}

// The exit code is set, not forced: output still being written is flushed,
// and a background VM owner (`run -d`) lives until its VM is stopped.
process.exitCode = await main(process.argv.slice(2), processIo());
