import { SupermachineError } from "../errors.js";
import { type Challenge, parseChallenges } from "./challenge.js";
import type { Credentials } from "./docker-config.js";
import { parseRetryAfter, registryScheme, TransientError } from "./transport.js";

export interface AuthContext {
  registry: string;
  repository: string;
  credentials: Credentials | undefined;
  insecureRegistries: readonly string[];
  signal: AbortSignal | undefined;
}

/**
 * Answers a registry's 401 challenge with the `Authorization` header value to
 * send from now on: a bearer token fetched from the challenge's realm, or
 * basic credentials. Throws `REGISTRY_AUTH_FAILED` when we cannot comply.
 */
export async function authorize(header: string | null, ctx: AuthContext): Promise<string> {
  const challenges = parseChallenges(header ?? "");
  const bearer = challenges.find((c) => c.scheme === "bearer");
  if (bearer) return `Bearer ${await fetchToken(bearer, ctx)}`;
  if (challenges.some((c) => c.scheme === "basic")) {
    if (!ctx.credentials) throw needsCredentials(ctx);
    return basic(ctx.credentials);
  }
  throw new SupermachineError(
    "REGISTRY_AUTH_FAILED",
    `Registry ${ctx.registry} asked for authentication with an unsupported challenge ` +
      `${JSON.stringify(challenges.map((c) => c.scheme))}; only Bearer and Basic are supported.`,
  );
}

async function fetchToken(challenge: Challenge, ctx: AuthContext): Promise<string> {
  const { realm, service, scope } = challenge.params;
  if (!realm) {
    throw new SupermachineError(
      "REGISTRY_AUTH_FAILED",
      `Registry ${ctx.registry} sent a Bearer challenge without a realm; cannot get a token.`,
    );
  }
  const url = new URL(realm);
  if (service) url.searchParams.set("service", service);
  url.searchParams.set("scope", scope ?? `repository:${ctx.repository}:pull`);

  const headers: Record<string, string> = {};
  // Basic credentials go to the token realm only over HTTPS, or plain HTTP to
  // hosts that the user already trusts with plain HTTP.
  const plainOk =
    url.protocol === "https:" || registryScheme(url.host, ctx.insecureRegistries) === "http";
  if (ctx.credentials && plainOk) headers.authorization = basic(ctx.credentials);

  const response = await fetch(url, { headers, signal: ctx.signal });
  if (response.status === 429 || response.status >= 500) {
    await response.body?.cancel();
    throw new TransientError(
      `token service ${url.host} answered HTTP ${response.status}`,
      parseRetryAfter(response.headers.get("retry-after")),
    );
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw refused(ctx, response.status, `Token service ${url.host}`);
  }
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  const token = body.token ?? body.access_token;
  if (typeof token !== "string" || token === "") {
    throw new SupermachineError(
      "REGISTRY_AUTH_FAILED",
      `Token service ${url.host} answered without a \`token\` or \`access_token\`.`,
    );
  }
  return token;
}

function basic(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;
}

function needsCredentials(ctx: AuthContext): SupermachineError {
  return new SupermachineError(
    "REGISTRY_AUTH_FAILED",
    `Registry ${ctx.registry} requires credentials to pull ${ctx.repository}. Run ` +
      `\`docker login ${ctx.registry}\` or pass \`credentials\` to pullImage.`,
  );
}

/** The error for a 401 or 403 once we have tried; never includes the secret. */
export function refused(ctx: AuthContext, status: number, by = `Registry ${ctx.registry}`) {
  if (!ctx.credentials) return needsCredentials(ctx);
  return new SupermachineError(
    "REGISTRY_AUTH_FAILED",
    `${by} refused user ${JSON.stringify(ctx.credentials.username)} (HTTP ${status}) ` +
      `for ${ctx.repository}. Check the username and password passed as \`credentials\` ` +
      `or stored by \`docker login ${ctx.registry}\`.`,
  );
}
