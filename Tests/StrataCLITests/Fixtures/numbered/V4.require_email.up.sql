PRAGMA foreign_keys=OFF;
CREATE TABLE __new_users (
  id INTEGER PRIMARY KEY,
  name VARCHAR (64),
  email TEXT NOT NULL DEFAULT ''
);
INSERT INTO __new_users (id, name, email) SELECT id, name, coalesce(email, '') FROM users;
DROP TABLE users;
ALTER TABLE __new_users RENAME TO users;
CREATE INDEX ix_users_email ON users (email);
PRAGMA foreign_keys=ON;
