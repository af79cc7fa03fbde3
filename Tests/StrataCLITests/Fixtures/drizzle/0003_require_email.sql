PRAGMA foreign_keys=OFF;
--> statement-breakpoint
CREATE TABLE __new_users (
  id INTEGER PRIMARY KEY,
  name VARCHAR (64),
  email TEXT NOT NULL DEFAULT ''
);
--> statement-breakpoint
INSERT INTO __new_users (id, name, email) SELECT id, name, coalesce(email, '') FROM users;
--> statement-breakpoint
DROP TABLE users;
--> statement-breakpoint
ALTER TABLE __new_users RENAME TO users;
--> statement-breakpoint
CREATE INDEX ix_users_email ON users (email);
--> statement-breakpoint
PRAGMA foreign_keys=ON;
--> statement-breakpoint
