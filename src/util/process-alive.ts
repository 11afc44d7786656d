/**
 * Whether a process with this pid exists on this host. Used to tell files
 * left by a dead process (run directories, bake locks, half-baked
 * snapshots) from those of a live one.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but another user's.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
