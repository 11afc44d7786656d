import { Image } from "../image/image.js";
import { parseImageSource } from "../oci/index.js";
import { Snapshot } from "../snapshot/snapshot.js";
import type { PullProgressView } from "./output/pull-progress.js";
import { readName, type SnapshotName } from "./state/snapshot-names.js";

/**
 * What `run` starts: a snapshot baked under a name, or an image reference.
 * A name wins over an image of the same spelling, as a local tag would.
 */
export type VmSource =
  | { kind: "snapshot"; text: string; entry: SnapshotName }
  | { kind: "image"; text: string };

export async function resolveSource(text: string): Promise<VmSource> {
  const entry = await readName(text);
  if (entry) return { kind: "snapshot", text, entry };
  parseImageSource(text); // a bad reference fails here, before anything starts
  return { kind: "image", text };
}

/** The source made ready to boot: the image pulled, or the snapshot checked. */
export type LoadedSource =
  | { kind: "snapshot"; text: string; entry: SnapshotName; snapshot: Snapshot }
  | { kind: "image"; text: string; image: Image };

export async function loadSource(
  source: VmSource,
  progress?: PullProgressView,
): Promise<LoadedSource> {
  if (source.kind === "snapshot") {
    return { ...source, snapshot: await Snapshot.open(source.entry.dir) };
  }
  const image = await Image.pull(source.text, { onProgress: progress?.update });
  progress?.finish();
  return { ...source, image };
}
