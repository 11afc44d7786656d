import { homedir } from "node:os";
import { join } from "node:path";

/**
 * The per-user cache directory: `$SUPERMACHINE_CACHE_DIR`, else the platform's
 * cache location (`$XDG_CACHE_HOME` or `~/.cache` on Linux, `~/Library/Caches`
 * on macOS, `%LOCALAPPDATA%` on Windows), then `supermachine`.
 */
export function cacheDir(): string {
  const override = process.env.SUPERMACHINE_CACHE_DIR;
  if (override) return override;
  if (process.platform === "darwin") return join(homedir(), "Library", "Caches", "supermachine");
  if (process.platform === "win32") {
    const base = process.env.LOCALAPPDATA ?? join(homedir(), "AppData", "Local");
    return join(base, "supermachine", "cache");
  }
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg ? xdg : join(homedir(), ".cache"), "supermachine");
}
