import createDebug from "debug";

/**
 * Debug output per subsystem, silent unless `DEBUG=supermachine:*` is set.
 * `scope` is usually a short VM id so interleaved VMs stay readable.
 */
export function debugFor(
  subsystem: string,
  scope?: string,
): (format: string, ...args: unknown[]) => void {
  const log = createDebug(`supermachine:${subsystem}`);
  if (scope === undefined) return log;
  return (format, ...args) => log(`[${scope}] ${format}`, ...args);
}
