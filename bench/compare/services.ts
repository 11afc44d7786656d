// The three services both systems run, each configured as a user of either
// would: supermachine through the presets its Vitest plugin uses,
// testcontainers with the wait strategy of its own module for the service
// (@testcontainers/redis, @testcontainers/postgresql) or, for nginx, the
// HTTP wait its documentation shows.
//
// The containers use the host's network (the benchmark's engine has no
// bridge), so each listens on a port of its own: containers running at once
// would otherwise collide. That is the only change to the image's command.
import { GenericContainer, Wait } from "testcontainers";
import { type BakeOptions, nginx, postgres, redis } from "../../src/index.js";
import {
  type Address,
  httpGet200,
  type PostgresLogin,
  postgresSelect1,
  redisPing,
} from "../support/service-clients.js";
import { onHostNetwork } from "./host-network-wait.js";

export type ServiceName = "redis" | "postgres" | "nginx";

export interface Service {
  name: ServiceName;
  /** The first client operation, as the README names it. */
  operation: string;
  guestPort: number;
  /** How supermachine bakes the snapshot. */
  bake: BakeOptions;
  /** One client operation; throws unless it succeeded. */
  use(address: Address): Promise<void>;
  /** The container testcontainers starts, listening on `port` of the host. */
  container(reference: string, port: number): GenericContainer;
}

// testcontainers' modules allow a service this long to start.
const STARTUP_TIMEOUT_MS = 120_000;

const login: PostgresLogin = { user: "postgres", password: "pw", database: "postgres" };

const redisService: Service = {
  name: "redis",
  operation: "PING answered PONG",
  guestPort: 6379,
  bake: { ...redis().bake },
  use: redisPing,
  container: (reference, port) =>
    new GenericContainer(reference)
      .withCommand(["redis-server", "--bind", "127.0.0.1", "--port", `${port}`])
      .withWaitStrategy(Wait.forLogMessage("Ready to accept connections"))
      .withStartupTimeout(STARTUP_TIMEOUT_MS),
};

const postgresService: Service = {
  name: "postgres",
  operation: "SELECT 1 answered",
  guestPort: 5432,
  bake: { ...postgres(login).bake },
  use: (address) => postgresSelect1(address, login),
  container: (reference, port) =>
    new GenericContainer(reference)
      .withEnvironment({
        POSTGRES_USER: login.user,
        POSTGRES_PASSWORD: login.password,
        POSTGRES_DB: login.database,
        // The server, its init and pg_isready all take their port from here.
        PGPORT: `${port}`,
      })
      .withHealthCheck({
        test: [
          "CMD-SHELL",
          `PGPASSWORD=${login.password} pg_isready --host localhost ` +
            `--username ${login.user} --dbname ${login.database}`,
        ],
        interval: 250,
        timeout: 1_000,
        retries: 1_000,
      })
      .withWaitStrategy(
        onHostNetwork(Wait.forAll([Wait.forHealthCheck(), Wait.forListeningPorts()]), [port]),
      )
      .withStartupTimeout(STARTUP_TIMEOUT_MS),
};

const nginxService: Service = {
  name: "nginx",
  operation: "GET / answered 200",
  guestPort: 80,
  bake: { ...nginx().bake },
  use: httpGet200,
  container: (reference, port) =>
    new GenericContainer(reference)
      .withCommand([
        "sh",
        "-c",
        `sed -i 's/listen 80 /listen ${port} /; s/:80 /:${port} /' ` +
          `/etc/nginx/conf.d/default.conf && exec nginx -g 'daemon off;'`,
      ])
      .withWaitStrategy(onHostNetwork(Wait.forHttp("/", port), [port]))
      .withStartupTimeout(STARTUP_TIMEOUT_MS),
};

export const services: Service[] = [redisService, postgresService, nginxService];
