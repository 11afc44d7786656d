// Where the examples' images come from. A real project names Docker Hub
// images ("postgres:16", "redis:7"); this repository's machines cannot reach
// Docker Hub, so scripts/example-registry.sh serves images built from Debian
// packages on loopback, and the suites name those.
const registry = process.env.SUPERMACHINE_EXAMPLE_REGISTRY ?? "127.0.0.1:5000";

export const images = {
  postgres: `${registry}/postgres:test`,
  redis: `${registry}/redis:test`,
};
