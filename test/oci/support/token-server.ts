import { execFileSync } from "node:child_process";
import { createSign, randomBytes, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.js";

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  /** The self-signed certificate the registry trusts (its rootcertbundle). */
  certPath: string;
  /** The JSON field the token is sent in; registries use either. */
  field: "token" | "access_token";
  /** Requests received, for tests that count round trips. */
  requests: string[];
  /** A bearer token with pull and push on `repository`, for the push helper. */
  token(repository: string): string;
  stop(): Promise<void>;
}

const SERVICE = "sm-test-registry";
const ISSUER = "sm-test-issuer";

/**
 * A token service for distribution's `auth: token`: it checks basic
 * credentials and answers with an RS256 JWT. The registry (2.8) finds the
 * signing key through the `x5c` header, a chain whose root must be in its
 * rootcertbundle; a self-signed certificate is both leaf and root here.
 */
export async function startTokenServer(users: Record<string, string>): Promise<TokenServer> {
  const dir = mkdtempSync(join(tmpdir(), "sm-token-"));
  const keyPath = join(dir, "key.pem");
  const certPath = join(dir, "cert.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=sm-test-token",
      "-keyout",
      keyPath,
      "-out",
      certPath,
    ],
    { stdio: "ignore" },
  );
  const key = readFileSync(keyPath);
  const certDer = new X509Certificate(readFileSync(certPath)).raw.toString("base64");

  const sign = (repository: string, actions: string[], subject: string) => {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: "JWT", alg: "RS256", x5c: [certDer] };
    const claims = {
      iss: ISSUER,
      sub: subject,
      aud: SERVICE,
      iat: now,
      nbf: now - 10,
      exp: now + 300,
      jti: randomBytes(8).toString("hex"),
      access: [{ type: "repository", name: repository, actions }],
    };
    const encode = (v: object) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const body = `${encode(header)}.${encode(claims)}`;
    const signature = createSign("RSA-SHA256").update(body).sign(key).toString("base64url");
    return `${body}.${signature}`;
  };

  const requests: string[] = [];
  let result: TokenServer | undefined;
  const server = createServer((req, res) => {
    requests.push(req.url ?? "");
    const url = new URL(req.url ?? "/", "http://x");
    const [user, password] = Buffer.from(
      (req.headers.authorization ?? "").replace(/^Basic /, ""),
      "base64",
    )
      .toString()
      .split(":");
    if (!user || users[user] !== password) {
      res.writeHead(401, { "content-type": "application/json" }).end('{"details":"bad login"}');
      return;
    }
    // scope = repository:<name>:<actions>
    const scope = url.searchParams.get("scope") ?? "";
    const [, repository = "", actions = "pull"] = scope.split(":");
    const token = sign(repository, actions.split(","), user);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ [result?.field ?? "access_token"]: token, expires_in: 300 }));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  result = {
    field: "access_token",
    realm: `http://127.0.0.1:${port}/token`,
    service: SERVICE,
    issuer: ISSUER,
    certPath,
    requests,
    token: (repository) => sign(repository, ["pull", "push"], "pusher"),
    stop: async () => {
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return result;
}
