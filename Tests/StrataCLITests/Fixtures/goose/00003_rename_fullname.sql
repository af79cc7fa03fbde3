-- the rename fullname step, written for goose
-- +goose Up
ALTER TABLE users RENAME COLUMN fullname TO name;

-- +goose Down
ALTER TABLE users RENAME COLUMN name TO fullname;
