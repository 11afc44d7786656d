import { describe, expect } from "vitest";
import { test } from "./fixtures.js";

describe("UserStore on a fresh PostgreSQL per test", () => {
  test("starts migrated and empty", async ({ users, db }) => {
    expect(await users.list()).toEqual([]);
    const roles = await db.query("SELECT name FROM roles ORDER BY name");
    expect(roles.rows.map((row) => row.name)).toEqual(["admin", "member"]);
  });

  test("creates a user", async ({ users }) => {
    const ada = await users.create("Ada@Example.com", "Ada");
    expect(ada).toMatchObject({ email: "ada@example.com", name: "Ada", role: "member" });
    expect(await users.list()).toHaveLength(1);
  });

  test("sees nothing of the previous test's user", async ({ users }) => {
    expect(await users.findByEmail("ada@example.com")).toBeUndefined();
    expect(await users.list()).toEqual([]);
  });

  test("rejects a duplicate email", async ({ users }) => {
    await users.create("grace@example.com", "Grace");
    await expect(users.create("GRACE@example.com", "Grace again")).rejects.toThrow(/unique/);
  });

  test("rejects an unknown role", async ({ users }) => {
    await expect(users.create("linus@example.com", "Linus", "owner")).rejects.toThrow(
      /foreign key/,
    );
  });

  test("renames a user", async ({ users }) => {
    const user = await users.create("alan@example.com", "Alan");
    await users.rename(user.id, "Alan T.");
    expect((await users.findByEmail("alan@example.com"))?.name).toBe("Alan T.");
  });
});
