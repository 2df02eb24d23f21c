-- Auth.js with the official Postgres adapter (@auth/pg-adapter): its
-- tables exactly as the adapter's schema.sql creates them
-- (https://github.com/nextauthjs/next-auth/blob/main/packages/adapter-pg/schema.sql),
-- with the users of authjs.sql. Ids are SERIAL integers.
CREATE TABLE users
(
  id SERIAL,
  name VARCHAR(255),
  email VARCHAR(255) UNIQUE,
  "emailVerified" TIMESTAMPTZ,
  image TEXT,

  PRIMARY KEY (id)
);

CREATE TABLE accounts
(
  id SERIAL,
  "userId" INTEGER NOT NULL REFERENCES users ON DELETE CASCADE,
  type VARCHAR(255) NOT NULL,
  provider VARCHAR(255) NOT NULL,
  "providerAccountId" VARCHAR(255) NOT NULL,
  refresh_token TEXT,
  access_token TEXT,
  expires_at BIGINT,
  id_token TEXT,
  scope TEXT,
  session_state TEXT,
  token_type TEXT,

  PRIMARY KEY (id),
  UNIQUE (provider, "providerAccountId")
);

CREATE TABLE sessions
(
  id SERIAL,
  "userId" INTEGER NOT NULL REFERENCES users ON DELETE CASCADE,
  expires TIMESTAMPTZ NOT NULL,
  "sessionToken" VARCHAR(255) UNIQUE NOT NULL,

  PRIMARY KEY (id)
);

CREATE TABLE verification_token
(
  identifier TEXT NOT NULL,
  expires TIMESTAMPTZ NOT NULL,
  token TEXT NOT NULL,

  PRIMARY KEY (identifier, token)
);

INSERT INTO users (name, email, "emailVerified", image) VALUES
  ('Ada Lovelace', 'ada@example.com', '2024-01-10 12:00:00+00', NULL),
  -- Signed in with an email link only (no accounts row).
  (NULL, 'Grace.Hopper@Example.com', '2024-02-11 13:00:00+00', NULL),
  ('Linus Benedict Torvalds', 'linus@example.org', NULL, 'https://avatars.githubusercontent.com/u/1024025');
INSERT INTO accounts ("userId", type, provider, "providerAccountId", access_token, expires_at, token_type, scope) VALUES
  (1, 'oauth', 'github', '583231', 'gho_a', NULL, 'bearer', 'read:user,user:email'),
  (1, 'oauth', 'google', '109876543210000000001', 'ya29.a', 1700000000, 'Bearer', 'openid email profile'),
  (3, 'oauth', 'github', '1024025', 'gho_l', NULL, 'bearer', 'read:user');
-- A pending email-link sign-in: not a user.
INSERT INTO verification_token VALUES ('someone@example.com', '2030-01-01 00:00:00+00', 'f3a1c0e9');
