export type GuestArch = "x86_64" | "arm64";

/** The guest architecture that runs natively on this host. */
export function hostGuestArch(): GuestArch {
  return process.arch === "arm64" ? "arm64" : "x86_64";
}
