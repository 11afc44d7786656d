import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";

export interface Credentials {
  username: string;
  password: string;
}

// Docker Hub credentials are stored under any of these keys, depending on
// which tool wrote them.
const HUB_KEYS = ["https://index.docker.io/v1/", "index.docker.io", "docker.io"];

/** The directory that holds Docker's `config.json`: `$DOCKER_CONFIG` or `~/.docker`. */
export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG || join(homedir(), ".docker");
}

/**
 * Reads credentials for `registry` from Docker's `config.json`. Missing or
 * unreadable files mean "no credentials": anonymous pulls must still work.
 * Credential helpers (`credsStore`, `credHelpers`) are not consulted.
 */
export async function readDockerCredentials(
  registry: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Credentials | undefined> {
  let text: string;
  try {
    text = await readFile(join(dockerConfigDir(env), "config.json"), "utf8");
  } catch {
    // No config file is the common case for anonymous pulls.
    return undefined;
  }
  return credentialsFromConfig(text, registry);
}

/** Finds `registry` in the `auths` of a Docker `config.json` text. */
export function credentialsFromConfig(text: string, registry: string): Credentials | undefined {
  let config: { auths?: Record<string, { auth?: string; username?: string; password?: string }> };
  try {
    config = JSON.parse(text);
  } catch {
    // A corrupt config should not block anonymous pulls; the registry will
    // say if credentials were needed.
    return undefined;
  }
  const auths = config?.auths;
  if (typeof auths !== "object" || auths === null) return undefined;
  const keys = registry === "docker.io" ? HUB_KEYS : [registry];
  for (const [key, entry] of Object.entries(auths)) {
    if (!keys.includes(hostOf(key)) && !keys.includes(key)) continue;
    if (typeof entry?.auth === "string" && entry.auth !== "") {
      const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon > 0) {
        return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
      }
    }
    if (entry?.username && entry.password) {
      return { username: entry.username, password: entry.password };
    }
  }
  return undefined;
}

// Keys may be written as URLs: `https://host:5000/v1/`.
function hostOf(key: string): string {
  return key.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
}
