-- A Supabase Auth database in miniature: the columns of auth.users and
-- auth.mfa_factors that the "supabase" preset reads, with GoTrue's types.
-- Same users as supabase.csv, plus a verified TOTP factor for ada. old.ban never
-- confirmed the address (email_confirmed_at NULL).
CREATE SCHEMA IF NOT EXISTS auth;
CREATE TYPE auth.factor_type AS ENUM ('totp', 'webauthn', 'phone');
CREATE TYPE auth.factor_status AS ENUM ('unverified', 'verified');
CREATE TABLE auth.users (
  instance_id uuid,
  id uuid PRIMARY KEY,
  aud varchar(255),
  role varchar(255),
  email varchar(255),
  encrypted_password varchar(255),
  email_confirmed_at timestamptz,
  last_sign_in_at timestamptz,
  raw_app_meta_data jsonb,
  raw_user_meta_data jsonb,
  is_super_admin bool,
  created_at timestamptz,
  updated_at timestamptz,
  phone text UNIQUE DEFAULT NULL,
  phone_confirmed_at timestamptz,
  banned_until timestamptz,
  is_sso_user boolean NOT NULL DEFAULT false,
  deleted_at timestamptz,
  is_anonymous boolean NOT NULL DEFAULT false
);
CREATE TABLE auth.mfa_factors (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES auth.users(id) ON DELETE CASCADE,
  friendly_name text,
  factor_type auth.factor_type NOT NULL,
  status auth.factor_status NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  secret text
);
INSERT INTO auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at, phone, phone_confirmed_at, banned_until) VALUES ('00000000-0000-0000-0000-000000000000', '76b196c8-d5c4-4907-9746-ed06ef829a67', 'authenticated', 'authenticated', 'ada@example.com', '$2a$10$ve2HrONtFbKw9k9DBgopXu.XecuRL9AcL7jKAJ8wqk9z9ndY5vc.6', '2024-02-26 14:04:29.153624+00', '{"provider":"email","providers":["email"]}', '{"full_name":"Ada Lovelace","plan":"pro"}', '2024-02-26 14:04:29.140992+00', '2024-02-26 14:04:29.140992+00', NULL, NULL, NULL);
INSERT INTO auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at, phone, phone_confirmed_at, banned_until) VALUES ('00000000-0000-0000-0000-000000000000', '926f3b49-9687-4d05-8557-2673387a1f3c', 'authenticated', 'authenticated', 'grace.hopper@gmail.com', '', '2024-03-04 12:12:24.9778+00', '{"provider":"google","providers":["google"]}', '{"iss":"https://accounts.google.com","sub":"109876543210987654321","name":"Grace Hopper","email":"grace.hopper@gmail.com","email_verified":true,"full_name":"Grace Hopper","avatar_url":"https://lh3.googleusercontent.com/a/grace"}', '2024-03-04 12:12:24.968657+00', '2024-03-04 12:12:24.968657+00', NULL, NULL, NULL);
INSERT INTO auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at, phone, phone_confirmed_at, banned_until) VALUES ('00000000-0000-0000-0000-000000000000', 'a1c2e3f4-0000-4b5c-8d9e-0123456789ab', 'authenticated', 'authenticated', NULL, '', NULL, '{"provider":"phone","providers":["phone"]}', '{}', '2024-05-01 08:00:00+00', '2024-05-01 08:00:00+00', '447400123456', '2024-05-01 08:00:10+00', NULL);
INSERT INTO auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at, phone, phone_confirmed_at, banned_until) VALUES ('00000000-0000-0000-0000-000000000000', 'b7d8e9f0-1111-4c2d-9e3f-abcdefabcdef', 'authenticated', 'authenticated', 'linus@example.org', '$2a$10$TQTii0PHUuvL2ZWffN.daeFrQcVz7BxUZUkCJldPL2m4NK/M5Urzy', '2023-12-01 09:30:00+00', '{"provider":"email","providers":["email"],"role":"support"}', '{}', '2023-12-01 09:29:59.5+00', '2023-12-01 09:29:59.5+00', NULL, NULL, '2999-12-31 23:59:59+00');
INSERT INTO auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at, phone, phone_confirmed_at, banned_until) VALUES ('00000000-0000-0000-0000-000000000000', 'c0ffee00-2222-4d3e-8f40-0a0b0c0d0e0f', 'authenticated', 'authenticated', 'old.ban@example.net', '', NULL, '{"provider":"email","providers":["email"]}', '{}', '2022-01-01 00:00:00+00', '2022-01-01 00:00:00+00', NULL, NULL, '2023-01-01 00:00:00+00');
-- A soft-deleted user: the preset's query leaves it out.
INSERT INTO auth.users (id, aud, role, email, encrypted_password, raw_app_meta_data, raw_user_meta_data, created_at, updated_at, deleted_at) VALUES ('d0d0d0d0-3333-4e4f-8a5b-111111111111', 'authenticated', 'authenticated', 'gone@example.com', '', '{}', '{}', '2021-01-01 00:00:00+00', '2021-01-01 00:00:00+00', '2024-01-01 00:00:00+00');
-- ada's authenticator app (verified), and an abandoned enrolment of linus (unverified: not imported).
INSERT INTO auth.mfa_factors VALUES ('e1e1e1e1-4444-4a4b-8c8d-222222222222', '76b196c8-d5c4-4907-9746-ed06ef829a67', 'Authy', 'totp', 'verified', '2024-02-27 10:00:00+00', '2024-02-27 10:00:00+00', 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP');
INSERT INTO auth.mfa_factors VALUES ('f2f2f2f2-5555-4a4b-8c8d-333333333333', 'b7d8e9f0-1111-4c2d-9e3f-abcdefabcdef', NULL, 'totp', 'unverified', '2024-01-05 10:00:00+00', '2024-01-05 10:00:00+00', 'KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU');
