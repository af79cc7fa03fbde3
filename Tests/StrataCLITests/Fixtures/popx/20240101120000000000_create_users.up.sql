-- users of the shop
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  fullname VARCHAR (64),
  email TEXT
);
CREATE INDEX ix_users_email ON users (email);
COMMIT;
