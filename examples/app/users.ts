import type pg from "pg";

export interface User {
  id: number;
  email: string;
  name: string;
  role: string;
}

/** The service's data layer: users in PostgreSQL. */
export class UserStore {
  readonly #db: pg.ClientBase | pg.Pool;

  constructor(db: pg.ClientBase | pg.Pool) {
    this.#db = db;
  }

  async create(email: string, name: string, role = "member"): Promise<User> {
    const { rows } = await this.#db.query<User>(
      "INSERT INTO users (email, name, role) VALUES ($1, $2, $3) RETURNING id, email, name, role",
      [email.toLowerCase(), name, role],
    );
    return rows[0] as User;
  }

  async findByEmail(email: string): Promise<User | undefined> {
    const { rows } = await this.#db.query<User>(
      "SELECT id, email, name, role FROM users WHERE email = $1",
      [email.toLowerCase()],
    );
    return rows[0];
  }

  async list(): Promise<User[]> {
    const { rows } = await this.#db.query<User>(
      "SELECT id, email, name, role FROM users ORDER BY id",
    );
    return rows;
  }

  async rename(id: number, name: string): Promise<void> {
    await this.#db.query("UPDATE users SET name = $2 WHERE id = $1", [id, name]);
  }
}
