import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";

export const migrationsDir = join(import.meta.dirname, "migrations");

/** Applies every migration in file-name order, in one transaction. */
export async function migrate(connectionString: string): Promise<void> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await client.query("BEGIN");
    for (const file of (await readdir(migrationsDir)).sort()) {
      await client.query(await readFile(join(migrationsDir, file), "utf8"));
    }
    await client.query("COMMIT");
  } finally {
    await client.end();
  }
}
