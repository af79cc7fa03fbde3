INSERT INTO users (fullname, email) VALUES ('Ana', 'a@x'), ('Bo', NULL)
