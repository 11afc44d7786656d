import type { GuestArch } from "../../engine/guest-arch.js";
import { hostGuestArch } from "../../engine/guest-arch.js";
import { pullImage } from "../../oci/index.js";
import { parseCommand, positionals } from "../args.js";
import type { Command } from "../command.js";
import { ExitCode, usageError } from "../exit-codes.js";
import { formatBytes, formatDuration, formatRate } from "../output/format.js";
import { PullProgressView } from "../output/pull-progress.js";
import type { Io } from "../output/terminal.js";

export const pull: Command = {
  name: "pull",
  summary: "pull an image into the local store",
  usage: "pull [--platform PLATFORM] REF",
  description:
    "Downloads an image's manifest, config and layers into the content store, each\n" +
    "checked against its digest, with a progress bar per layer. REF is a registry\n" +
    "reference (redis:7, host:5000/app@sha256:...), oci:DIR[:TAG] or\n" +
    "docker-archive:FILE.tar. Credentials come from ~/.docker/config.json.",
  options: [["--platform P", "linux/amd64 or linux/arm64 (default: this host's guest)"]],
  examples: [
    "supermachine pull redis:7",
    "supermachine pull --platform linux/arm64 127.0.0.1:5000/nginx:test",
    "supermachine pull oci:./build/layout:v1",
  ],
  async run(argv: string[], io: Io): Promise<number> {
    const { values, positionals: given } = parseCommand("pull", argv, {
      platform: { type: "string" },
    });
    const [reference] = positionals("pull", given, ["REF"]) as [string];
    const arch = values.platform ? parsePlatform(values.platform) : hostGuestArch();

    const progress = new PullProgressView(io.err);
    const image = await pullImage(reference, { arch, onProgress: progress.update });
    const totals = progress.finish();

    const layers = `${totals.layers} ${totals.layers === 1 ? "layer" : "layers"}`;
    if (totals.downloaded === 0) {
      io.out.line(`${image.reference} is up to date: ${layers}, ${formatBytes(totals.cached)}`);
    } else {
      const rate = formatRate(totals.downloaded, totals.ms);
      const took = `${formatDuration(totals.ms)} (${rate})`;
      const reused = totals.cached > 0 ? `, ${formatBytes(totals.cached)} already present` : "";
      io.out.line(
        `Pulled ${image.reference}: ${layers}, ${formatBytes(totals.downloaded)} downloaded in ` +
          `${took}${reused}`,
      );
    }
    io.out.line(`Digest: ${image.manifestDigest}`);
    return ExitCode.ok;
  },
};

/** `linux/amd64`, `linux/arm64` or `linux/arm64/v8`: the guests QEMU runs here. */
export function parsePlatform(text: string): GuestArch {
  const [os, architecture, variant] = text.split("/");
  if (os === "linux" && architecture === "amd64" && variant === undefined) return "x86_64";
  if (os === "linux" && architecture === "arm64" && (variant ?? "v8") === "v8") return "arm64";
  throw usageError(
    `\`--platform\` must be linux/amd64 or linux/arm64, received ${JSON.stringify(text)}`,
    "pull",
  );
}
