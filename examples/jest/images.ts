// The services the suite uses, by name; baked by the global setup before any
// test runs. A function, because the migrations' hash is computed.
import { hashDirectory } from "../../src/index.js";
import { type DeclaredImages, postgres, redis } from "../../src/jest/index.js";
import { migrate, migrationsDir } from "../app/migrate.js";
import { images } from "../images.js";

export default async function declareImages(): Promise<DeclaredImages> {
  return {
    pg: postgres({
      image: images.postgres,
      password: "pw",
      database: "app",
      // Migrated once, before the snapshot: every test starts migrated.
      setup: (db) => migrate(db.connectionString),
      setupKey: await hashDirectory(migrationsDir),
    }),
    cache: redis({ image: images.redis }),
  };
}
