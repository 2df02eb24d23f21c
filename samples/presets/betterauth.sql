-- A Better Auth database (core schema, default names, Postgres adapter):
-- https://www.better-auth.com/docs/concepts/database#core-schema
CREATE TABLE "user" (
  id text PRIMARY KEY,
  name text NOT NULL,
  email text NOT NULL UNIQUE,
  "emailVerified" boolean NOT NULL,
  image text,
  "createdAt" timestamp NOT NULL,
  "updatedAt" timestamp NOT NULL
);
CREATE TABLE "account" (
  id text PRIMARY KEY,
  "accountId" text NOT NULL,
  "providerId" text NOT NULL,
  "userId" text NOT NULL REFERENCES "user"(id),
  "accessToken" text,
  "refreshToken" text,
  "idToken" text,
  "accessTokenExpiresAt" timestamp,
  "refreshTokenExpiresAt" timestamp,
  scope text,
  password text,
  "createdAt" timestamp NOT NULL,
  "updatedAt" timestamp NOT NULL
);
-- Email and password: Better Auth's scrypt "<salt hex>:<key hex>" of the password
-- better-ada-pw (N=16384 r=16 p=1, 64-byte key, the hex salt as text).
INSERT INTO "user" VALUES ('Zq3kT9xY1bN4mR7s', 'Ada Lovelace', 'ada@example.com', true, NULL, '2024-04-01 09:00:00', '2024-04-01 09:00:00');
INSERT INTO "account" VALUES ('acc_1', 'Zq3kT9xY1bN4mR7s', 'credential', 'Zq3kT9xY1bN4mR7s', NULL, NULL, NULL, NULL, NULL, NULL,
  '8f1c2a7e5b3d9f0e1a2b3c4d5e6f7081:c003a169dde96b93c2ceaa3e850880ef6c6ae884282c390a64ddfa9e55575ea910103e342b641727771689d3075c6662befa73686705580389eba253ff04901b', '2024-04-01 09:00:00', '2024-04-01 09:00:00');
-- GitHub only.
INSERT INTO "user" VALUES ('Hp6wL2vC8dF0gJ5k', 'Grace Hopper', 'grace.hopper@gmail.com', true, 'https://avatars.githubusercontent.com/u/1', '2024-05-02 10:30:00', '2024-05-02 10:30:00');
INSERT INTO "account" VALUES ('acc_2', '1', 'github', 'Hp6wL2vC8dF0gJ5k', 'gho_xxx', NULL, NULL, NULL, NULL, 'read:user,user:email', NULL, '2024-05-02 10:30:00', '2024-05-02 10:30:00');
-- A password (better-linus-pw) and Google both.
INSERT INTO "user" VALUES ('Lt4nS8aB2cD6eF0h', 'Linus', 'linus@example.org', false, NULL, '2024-06-03 11:45:30', '2024-06-03 11:45:30');
INSERT INTO "account" VALUES ('acc_3', 'Lt4nS8aB2cD6eF0h', 'credential', 'Lt4nS8aB2cD6eF0h', NULL, NULL, NULL, NULL, NULL, NULL,
  '0a1b2c3d4e5f60718293a4b5c6d7e8f9:d1260cf05bd737ffede5c2803eacac0b61f40c678a5677de21377bdfd56e16c7a0ccf7fd495b1551001eedecd7fccc1d4831f9590c4723bb0c3b6502febfecc2', '2024-06-03 11:45:30', '2024-06-03 11:45:30');
INSERT INTO "account" VALUES ('acc_4', '109876543210987654000', 'google', 'Lt4nS8aB2cD6eF0h', 'ya29.xxx', NULL, NULL, NULL, NULL, 'openid email profile', NULL, '2024-07-01 08:00:00', '2024-07-01 08:00:00');
-- Users brought in from an older system under a custom password.hash/verify:
-- a bcrypt digest (password auth0-ada-pw), sent as it is, and a form Clerk
-- reads in no hasher, named in password_not_migrated.
INSERT INTO "user" VALUES ('Ed5gR7dJk2Lm9Np1', 'Edsger Dijkstra', 'edsger@example.nl', true, NULL, '2024-08-01 07:00:00', '2024-08-01 07:00:00');
INSERT INTO "account" VALUES ('acc_5', 'Ed5gR7dJk2Lm9Np1', 'credential', 'Ed5gR7dJk2Lm9Np1', NULL, NULL, NULL, NULL, NULL, NULL,
  '$2a$10$fPxmlud1x.o9oEu.eVyK5eBSqqgH/F6L01USofhF3bPL6VXEIcgEe', '2024-08-01 07:00:00', '2024-08-01 07:00:00');
INSERT INTO "user" VALUES ('Bl8sK3vW6xY1zQ4r', 'Barbara Liskov', 'barbara@example.com', true, NULL, '2024-08-02 07:00:00', '2024-08-02 07:00:00');
INSERT INTO "account" VALUES ('acc_6', 'Bl8sK3vW6xY1zQ4r', 'credential', 'Bl8sK3vW6xY1zQ4r', NULL, NULL, NULL, NULL, NULL, NULL,
  'sha256:1000:c2FsdA==:q1w2e3r4t5y6u7i8o9p0', '2024-08-02 07:00:00', '2024-08-02 07:00:00');
