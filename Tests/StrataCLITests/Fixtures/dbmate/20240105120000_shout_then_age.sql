-- migrate:up
UPDATE users SET name = upper(name);
ALTER TABLE users ADD COLUMN age INTEGER;
ALTER TABLE users ADD COLUMN status TEXT DEFAULT "active";

-- migrate:down
ALTER TABLE users DROP COLUMN status;
ALTER TABLE users DROP COLUMN age;
