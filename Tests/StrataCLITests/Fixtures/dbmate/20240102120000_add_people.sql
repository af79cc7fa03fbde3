-- migrate:up
INSERT INTO users (fullname, email) VALUES ('Ana', 'a@x'), ('Bo', NULL)

-- migrate:down
DELETE FROM users;
