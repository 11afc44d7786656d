CREATE TABLE roles (name text PRIMARY KEY);
INSERT INTO roles VALUES ('admin'), ('member');
ALTER TABLE users ADD COLUMN role text NOT NULL DEFAULT 'member' REFERENCES roles (name);
