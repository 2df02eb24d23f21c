-- The same twelve users as users.csv / users.json / users.jsonl, as a Postgres table.
-- psql "$DATABASE_URL" -f samples/formats/users.sql
DROP TABLE IF EXISTS formats_users;
CREATE TABLE formats_users (
  id text PRIMARY KEY,
  email text NOT NULL,
  first_name text,
  last_name text,
  phone text,
  password_hash text,
  hasher text,
  created_at timestamptz NOT NULL,
  banned boolean NOT NULL DEFAULT false,
  plan text,
  profile jsonb NOT NULL DEFAULT '{}'
);
INSERT INTO formats_users (id, email, first_name, last_name, phone, password_hash, hasher, created_at, banned, plan, profile) VALUES
  ('u001', 'ada@example.com', 'Ada', 'Lovelace', '+14155550101', '$2a$10$fPxmlud1x.o9oEu.eVyK5eBSqqgH/F6L01USofhF3bPL6VXEIcgEe', 'bcrypt', '2019-03-04T10:22:01Z', false, 'pro', '{"theme":"dark","beta":true}'),
  ('u002', 'grace@example.com', 'Grace', 'Hopper', NULL, '$2a$10$WOsbVy9HqKysFN6o6pQ8HursuRKaZbE9GGq6BsNQr90DANSODl/lC', 'bcrypt', '2019-05-06T07:08:09Z', false, 'free', '{}'),
  ('u003', 'linus@example.org', 'Linus', 'Torvalds', '+14155550103', NULL, NULL, '2020-01-02T03:04:05Z', false, 'pro', '{"langs":["c","rust"]}'),
  ('u004', 'margaret@example.com', 'Margaret', 'Hamilton', NULL, '$argon2id$v=19$m=19456,t=2,p=1$KxS8WuMqcPqxLNVcb8oX4Q$3UPn4C1xrLeInp6aWF3qzwlwkujywROwH6ee1Wnly34', 'argon2id', '2020-07-15T06:30:00Z', false, 'enterprise', '{}'),
  ('u005', 'alan@example.co.uk', 'Alan', 'Turing', '+447400123456', '$2a$10$Z/K36RkH1PcxckNPDbmO9.Yed4KjYhNC0FSwhsX5aUwXjoKJeQPXu', 'bcrypt', '2018-06-23T12:00:00Z', true, 'free', '{"note":"banned for spam"}'),
  ('u006', 'barbara@example.com', 'Barbara', 'Liskov', NULL, NULL, NULL, '2021-11-11T11:11:11Z', false, 'pro', '{}'),
  ('u007', 'edsger@example.nl', 'Edsger', 'Dijkstra', '+31612345678', '$2a$10$ve2HrONtFbKw9k9DBgopXu.XecuRL9AcL7jKAJ8wqk9z9ndY5vc.6', 'bcrypt', '2017-05-11T08:00:00Z', false, 'free', '{"score":42}'),
  ('u008', 'ken@example.com', 'Ken', 'Thompson', NULL, NULL, NULL, '2022-02-22T22:22:22Z', false, 'free', '{}'),
  ('u009', 'radia@example.com', 'Radia', 'Perlman', '+14155550109', '$2a$10$fPxmlud1x.o9oEu.eVyK5eBSqqgH/F6L01USofhF3bPL6VXEIcgEe', 'bcrypt', '2022-09-09T09:09:09Z', false, 'pro', '{"teams":{"net":"lead"}}'),
  ('u010', 'frances@example.com', 'Frances', 'Allen', NULL, NULL, NULL, '2023-03-03T03:03:03Z', true, 'free', '{}'),
  ('u011', 'john@example.com', 'John', 'Backus', NULL, '$2a$10$WOsbVy9HqKysFN6o6pQ8HursuRKaZbE9GGq6BsNQr90DANSODl/lC', 'bcrypt', '2023-08-08T08:08:08Z', false, 'enterprise', '{}'),
  ('u012', 'zoe@example.se', 'Zoë', 'Ångström', '+46701234567', NULL, NULL, '2024-01-01T00:00:00Z', false, 'pro', '{"lang":"sv"}');
