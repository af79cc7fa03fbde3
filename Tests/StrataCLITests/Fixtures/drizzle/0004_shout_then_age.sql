UPDATE users SET name = upper(name);
--> statement-breakpoint
ALTER TABLE users ADD COLUMN age INTEGER;
--> statement-breakpoint
ALTER TABLE users ADD COLUMN status TEXT DEFAULT "active";
--> statement-breakpoint
