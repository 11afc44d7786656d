import { formatReference, parseImageSource } from "../oci/index.js";

/**
 * The reference an image is recorded under in the store: `redis` becomes
 * `docker.io/library/redis:latest`, `oci:./dir` an absolute path.
 */
export function normaliseReference(text: string): string {
  const source = parseImageSource(text);
  switch (source.kind) {
    case "registry":
      return formatReference(source.reference);
    case "oci-layout":
      return `oci:${source.path}${source.tag ? `:${source.tag}` : ""}`;
    case "docker-archive":
      return `docker-archive:${source.path}`;
  }
}
