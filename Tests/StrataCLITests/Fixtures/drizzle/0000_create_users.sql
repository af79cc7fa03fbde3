-- users of the shop
PRAGMA foreign_keys=OFF;
--> statement-breakpoint
BEGIN TRANSACTION;
--> statement-breakpoint
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  fullname VARCHAR (64),
  email TEXT
);
--> statement-breakpoint
CREATE INDEX ix_users_email ON users (email);
--> statement-breakpoint
COMMIT;
--> statement-breakpoint
