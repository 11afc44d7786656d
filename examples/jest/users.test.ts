import { describe, expect, test } from "@jest/globals";
import { useDatabase } from "./services.js";

describe("UserStore on a fresh PostgreSQL per test", () => {
  const database = useDatabase();

  test("starts migrated and empty", async () => {
    expect(await database.users.list()).toEqual([]);
    const roles = await database.db.query("SELECT name FROM roles ORDER BY name");
    expect(roles.rows.map((row) => row.name)).toEqual(["admin", "member"]);
  });

  test("creates a user", async () => {
    const ada = await database.users.create("Ada@Example.com", "Ada");
    expect(ada).toMatchObject({ email: "ada@example.com", name: "Ada", role: "member" });
    expect(await database.users.list()).toHaveLength(1);
  });

  test("sees nothing of the previous test's user", async () => {
    expect(await database.users.findByEmail("ada@example.com")).toBeUndefined();
    expect(await database.users.list()).toEqual([]);
  });

  test("rejects a duplicate email", async () => {
    await database.users.create("grace@example.com", "Grace");
    await expect(database.users.create("GRACE@example.com", "Grace again")).rejects.toThrow(
      /unique/,
    );
  });

  test("rejects an unknown role", async () => {
    await expect(database.users.create("linus@example.com", "Linus", "owner")).rejects.toThrow(
      /foreign key/,
    );
  });

  test("renames a user", async () => {
    const user = await database.users.create("alan@example.com", "Alan");
    await database.users.rename(user.id, "Alan T.");
    expect((await database.users.findByEmail("alan@example.com"))?.name).toBe("Alan T.");
  });
});
