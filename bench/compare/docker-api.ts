// The few Docker Engine API calls the benchmark makes itself, over the
// private engine's unix socket: enough to see that the engine is up, to
// describe it, and to remove what is left at the end even when
// testcontainers failed half-way.
import { request } from "node:http";

export interface DockerVersion {
  Version: string;
  ApiVersion: string;
  Components?: { Name: string; Version: string }[];
}

export interface DockerInfo {
  Driver: string;
  CgroupVersion?: string;
  CgroupDriver?: string;
}

/** One request; resolves with the status and the body as text. */
export function dockerRequest(
  socketPath: string,
  method: string,
  path: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const call = request({ socketPath, method, path, timeout: 30_000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () =>
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
      );
      response.on("error", reject);
    });
    call.on("timeout", () => call.destroy(new Error(`${method} ${path} timed out after 30 s`)));
    call.on("error", reject);
    call.end();
  });
}

/** GET `path` and parse the JSON answer; throws on any status but 200. */
export async function dockerGet<T>(socketPath: string, path: string): Promise<T> {
  const { status, body } = await dockerRequest(socketPath, "GET", path);
  if (status !== 200) throw new Error(`GET ${path} answered ${status}: ${body.trim()}`);
  return JSON.parse(body) as T;
}

/** Force-removes every container, running or not; returns their ids. */
export async function removeAllContainers(socketPath: string): Promise<string[]> {
  const containers = await dockerGet<{ Id: string }[]>(socketPath, "/containers/json?all=1");
  for (const { Id } of containers) {
    const { status, body } = await dockerRequest(
      socketPath,
      "DELETE",
      `/containers/${Id}?force=1&v=1`,
    );
    // 404: testcontainers removed it meanwhile, which is as good.
    if (status !== 204 && status !== 404) {
      throw new Error(`removing container ${Id} answered ${status}: ${body.trim()}`);
    }
  }
  return containers.map(({ Id }) => Id);
}
