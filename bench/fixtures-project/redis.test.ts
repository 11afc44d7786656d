import { Redis } from "ioredis";
import { type MicroVm, microVm } from "supermachine/vitest";
import { test as base, expect } from "vitest";

const scope = process.env.BENCH_SCOPE === "file" ? "file" : "test";
const test = base.extend<{ cache: MicroVm }>({ cache: microVm("cache", { scope }) });

test.for(Array.from({ length: 20 }, (_, index) => index))(
  "request %i",
  async (index, { cache }) => {
    const client = new Redis(cache.url, { maxRetriesPerRequest: 1 });
    try {
      await client.set(`key-${index}`, "value");
      expect(await client.get(`key-${index}`)).toBe("value");
    } finally {
      client.disconnect();
    }
  },
);
