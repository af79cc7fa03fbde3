-- the shout then age step, written for goose
-- +goose Up
UPDATE users SET name = upper(name);
ALTER TABLE users ADD COLUMN age INTEGER;
ALTER TABLE users ADD COLUMN status TEXT DEFAULT "active";

-- +goose Down
ALTER TABLE users DROP COLUMN status;
ALTER TABLE users DROP COLUMN age;
