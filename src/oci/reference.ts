import { resolve } from "node:path";
import { SupermachineError } from "../errors.js";

/** A normalised registry image reference, as Docker would resolve it. */
export interface ImageReference {
  /** Registry name as users write it: `docker.io`, `localhost:5000`. */
  registry: string;
  /** Full repository path: `library/redis`. */
  repository: string;
  /** `latest` when neither a tag nor a digest was given. */
  tag: string | undefined;
  /** `sha256:<64 hex>`; when present it wins over the tag. */
  digest: string | undefined;
}

/** Where an image comes from: a registry, or a copy the user already has. */
export type ImageSource =
  | { kind: "registry"; reference: ImageReference }
  | { kind: "oci-layout"; path: string; tag: string | undefined }
  | { kind: "docker-archive"; path: string };

const DOCKER_HUB = "docker.io";
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const HOST_LABEL = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const TAG = /^\w[\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

function invalid(input: string, problem: string): never {
  throw new SupermachineError(
    "INVALID_REFERENCE",
    `Invalid image reference ${JSON.stringify(input)}: ${problem}`,
  );
}

/**
 * Parses `oci:<dir>[:tag]`, `docker-archive:<file.tar>` or a registry
 * reference (see `parseReference`).
 */
export function parseImageSource(input: string): ImageSource {
  if (input.startsWith("oci:")) {
    const rest = input.slice(4);
    // The tag is whatever follows the last colon after the last slash, so
    // directory names with colons earlier in the path still work.
    const colon = rest.lastIndexOf(":");
    const hasTag = colon > rest.lastIndexOf("/") && colon > 0;
    const dir = hasTag ? rest.slice(0, colon) : rest;
    const tag = hasTag ? rest.slice(colon + 1) : undefined;
    if (dir === "") invalid(input, "`oci:` needs a directory path, as in `oci:./layout:v1`.");
    if (tag !== undefined && !TAG.test(tag)) invalid(input, tagProblem(tag));
    return { kind: "oci-layout", path: resolve(dir), tag };
  }
  if (input.startsWith("docker-archive:")) {
    const file = input.slice("docker-archive:".length);
    if (file === "")
      invalid(input, "`docker-archive:` needs a file, as in `docker-archive:x.tar`.");
    return { kind: "docker-archive", path: resolve(file) };
  }
  return { kind: "registry", reference: parseReference(input) };
}

/**
 * Parses an image reference the way Docker does: `redis` becomes
 * `docker.io/library/redis:latest`. Throws `INVALID_REFERENCE` naming the
 * part that is wrong and what it may contain.
 */
export function parseReference(input: string): ImageReference {
  if (input === "") invalid(input, "it is empty; give a name such as `redis:7`.");
  if (/\s/.test(input)) invalid(input, "it contains whitespace.");

  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) {
      invalid(
        input,
        `the digest ${JSON.stringify(digest)} must be "sha256:" and 64 lowercase hex.`,
      );
    }
  }

  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) invalid(input, tagProblem(tag));
  }

  const { registry, path } = splitRegistry(input, rest);
  const components = path.split("/");
  for (const component of components) checkComponent(input, component);
  const repository = registry === DOCKER_HUB && components.length === 1 ? `library/${path}` : path;
  if (registry.length + 1 + repository.length > 255) {
    invalid(input, "the name is longer than 255 characters.");
  }
  if (tag === undefined && digest === undefined) tag = "latest";
  return { registry, repository, tag, digest };
}

function splitRegistry(input: string, name: string): { registry: string; path: string } {
  const slash = name.indexOf("/");
  const first = slash === -1 ? "" : name.slice(0, slash);
  // Docker's rule: the first component is a host only if it looks like one.
  const isHost =
    first !== "" &&
    (first.includes(".") ||
      first.includes(":") ||
      first === "localhost" ||
      first !== first.toLowerCase());
  if (!isHost) return { registry: DOCKER_HUB, path: name };
  checkHost(input, first);
  const registry = first === "index.docker.io" ? DOCKER_HUB : first;
  return { registry, path: name.slice(slash + 1) };
}

function checkHost(input: string, host: string): void {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:]+)(?::(\d+))?$/.exec(host);
  const name = match?.[1] ?? "";
  const labelsOk = name.startsWith("[") || name.split(".").every((l) => HOST_LABEL.test(l));
  const port = match?.[2];
  if (!match || !labelsOk || (port !== undefined && Number(port) > 65535)) {
    invalid(
      input,
      `the registry host ${JSON.stringify(host)} must be a DNS name or IP address with an ` +
        "optional :port, as in `registry.example.com:5000`.",
    );
  }
}

function checkComponent(input: string, component: string): void {
  if (component === "") invalid(input, "the repository has an empty path component.");
  if (COMPONENT.test(component)) return;
  const hint =
    component !== component.toLowerCase()
      ? " Repository names must be lowercase."
      : " Use lowercase letters and digits, separated by '.', '_', '__' or '-'.";
  invalid(input, `the repository component ${JSON.stringify(component)} is not allowed.${hint}`);
}

function tagProblem(tag: string): string {
  return (
    `the tag ${JSON.stringify(tag)} may contain only letters, digits, '_', '.' and '-', ` +
    "must not start with '.' or '-', and is at most 128 characters."
  );
}

/** `docker.io/library/redis:7`, or `…@sha256:…` when a digest is pinned. */
export function formatReference(ref: ImageReference): string {
  const name = `${ref.registry}/${ref.repository}`;
  if (ref.digest !== undefined) return `${name}${ref.tag ? `:${ref.tag}` : ""}@${ref.digest}`;
  return `${name}:${ref.tag ?? "latest"}`;
}

/** The host that serves the registry API: Docker Hub's differs from its name. */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? "registry-1.docker.io" : registry;
}
