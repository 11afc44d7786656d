// The example suite: a PostgreSQL and a Redis per test, each a fresh microVM
// restored from a snapshot baked once, migrations already applied.
//
// An installed copy imports from "supermachine" and "supermachine/vitest";
// inside this repository the example uses the library's source.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { hashDirectory } from "../../src/index.js";
import { postgres, redis, supermachine } from "../../src/vitest/index.js";
import { migrate, migrationsDir } from "../app/migrate.js";
import { images } from "../images.js";

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  plugins: [
    supermachine({
      images: {
        pg: postgres({
          image: images.postgres,
          password: "pw",
          database: "app",
          // Migrated once, before the snapshot: every test starts migrated.
          setup: (db) => migrate(db.connectionString),
          setupKey: await hashDirectory(migrationsDir),
        }),
        cache: redis({ image: images.redis }),
      },
    }),
  ],
  resolve: {
    alias: {
      "supermachine/vitest": source("../../src/vitest/index.ts"),
      supermachine: source("../../src/index.ts"),
    },
  },
  test: {
    root: source("."),
    include: ["**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    reporters: ["default", source("../../test/support/summary-reporter.ts")],
  },
});
