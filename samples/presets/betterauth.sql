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
-- Email and password: Better Auth's scrypt "<salt hex>:<key hex>" (not importable).
INSERT INTO "user" VALUES ('Zq3kT9xY1bN4mR7s', 'Ada Lovelace', 'ada@example.com', true, NULL, '2024-04-01 09:00:00', '2024-04-01 09:00:00');
INSERT INTO "account" VALUES ('acc_1', 'Zq3kT9xY1bN4mR7s', 'credential', 'Zq3kT9xY1bN4mR7s', NULL, NULL, NULL, NULL, NULL, NULL,
  '8f1c2a7e5b3d9f0e1a2b3c4d5e6f7081:6d1f9b0c8e2a4f5d7c3b1a0e9f8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d', '2024-04-01 09:00:00', '2024-04-01 09:00:00');
-- GitHub only.
INSERT INTO "user" VALUES ('Hp6wL2vC8dF0gJ5k', 'Grace Hopper', 'grace.hopper@gmail.com', true, 'https://avatars.githubusercontent.com/u/1', '2024-05-02 10:30:00', '2024-05-02 10:30:00');
INSERT INTO "account" VALUES ('acc_2', '1', 'github', 'Hp6wL2vC8dF0gJ5k', 'gho_xxx', NULL, NULL, NULL, NULL, 'read:user,user:email', NULL, '2024-05-02 10:30:00', '2024-05-02 10:30:00');
-- A password and Google both.
INSERT INTO "user" VALUES ('Lt4nS8aB2cD6eF0h', 'Linus', 'linus@example.org', false, NULL, '2024-06-03 11:45:30', '2024-06-03 11:45:30');
INSERT INTO "account" VALUES ('acc_3', 'Lt4nS8aB2cD6eF0h', 'credential', 'Lt4nS8aB2cD6eF0h', NULL, NULL, NULL, NULL, NULL, NULL,
  '0a1b2c3d4e5f60718293a4b5c6d7e8f9:1e2d3c4b5a69788796a5b4c3d2e1f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9', '2024-06-03 11:45:30', '2024-06-03 11:45:30');
INSERT INTO "account" VALUES ('acc_4', '109876543210987654000', 'google', 'Lt4nS8aB2cD6eF0h', 'ya29.xxx', NULL, NULL, NULL, NULL, 'openid email profile', NULL, '2024-07-01 08:00:00', '2024-07-01 08:00:00');
