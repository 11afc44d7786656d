import { BoundPorts, type WaitStrategy } from "testcontainers";

/**
 * Runs one of testcontainers' own wait strategies for a container on the
 * host network. Such a container has no port bindings, so the strategies
 * that check ports (HTTP, listening ports) would find none to check; here
 * each given port is bound to itself, which is where it listens.
 */
export function onHostNetwork(inner: WaitStrategy, ports: number[]): WaitStrategy {
  const bound = new BoundPorts();
  for (const port of ports) bound.setBinding(port, port);
  const strategy: WaitStrategy = {
    waitUntilReady: (container, _none, startTime) =>
      inner.waitUntilReady(container, bound, startTime),
    withStartupTimeout: (ms) => {
      inner.withStartupTimeout(ms);
      return strategy;
    },
    isStartupTimeoutSet: () => inner.isStartupTimeoutSet(),
    getStartupTimeout: () => inner.getStartupTimeout(),
  };
  return strategy;
}
