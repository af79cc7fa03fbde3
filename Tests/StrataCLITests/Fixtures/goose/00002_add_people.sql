-- the add people step, written for goose
-- +goose Up
INSERT INTO users (fullname, email) VALUES ('Ana', 'a@x'), ('Bo', NULL);

-- +goose Down
DELETE FROM people;
