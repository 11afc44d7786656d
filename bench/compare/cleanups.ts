// Teardown for a run that starts daemons, VMs and temporary directories:
// each step registered as it is made, all run in reverse order once, at
// the end, on failure, or on Ctrl-C.

type Step = { label: string; run: () => Promise<unknown> };

export class Cleanups {
  readonly #steps: Step[] = [];
  #running: Promise<void> | undefined;

  add(label: string, run: () => Promise<unknown>): void {
    this.#steps.push({ label, run });
  }

  /** Runs every step, last added first; a failing step is reported and the rest still run. */
  run(): Promise<void> {
    this.#running ??= (async () => {
      for (const step of [...this.#steps].reverse()) {
        try {
          await step.run();
        } catch (error) {
          process.stderr.write(`clean-up: ${step.label} failed: ${error}\n`);
        }
      }
    })();
    return this.#running;
  }

  /** On SIGINT or SIGTERM: clean up, then exit as the signal would have. */
  runOnSignals(): void {
    for (const [signal, code] of [
      ["SIGINT", 130],
      ["SIGTERM", 143],
    ] as const) {
      process.once(signal, () => {
        process.stderr.write(`\n${signal}: cleaning up before exiting\n`);
        this.run().finally(() => process.exit(code));
      });
    }
  }
}
