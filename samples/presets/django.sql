-- Django's auth_user as `manage.py migrate` creates it on Postgres, with
-- passwords as Django's hashers store them.
CREATE TABLE auth_user (
  id serial PRIMARY KEY,
  password varchar(128) NOT NULL,
  last_login timestamptz,
  is_superuser boolean NOT NULL,
  username varchar(150) NOT NULL UNIQUE,
  first_name varchar(150) NOT NULL,
  last_name varchar(150) NOT NULL,
  email varchar(254) NOT NULL,
  is_staff boolean NOT NULL,
  is_active boolean NOT NULL,
  date_joined timestamptz NOT NULL
);
INSERT INTO auth_user (id, password, last_login, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined) VALUES
 -- PBKDF2PasswordHasher (Django 4.2's 600000 iterations); password django-ada-pw
 (1, 'pbkdf2_sha256$600000$ZsmUDnAKFyXk8bXn0bxo8Q$kCfqije6xRD41WFqt+qa+k8lJcHNYy2VJM9cPBRtd44=', '2024-06-01 10:00:00+00', true, 'ada', 'Ada', 'Lovelace', 'ada@example.com', true, true, '2019-03-04 10:22:01.5+00'),
 -- Argon2PasswordHasher; password django-grace-pw
 (2, 'argon2$argon2id$v=19$m=102400,t=2,p=8$c29tZXNhbHRzb21lc2FsdA$MYxPqOOW8kYMuNr5F3eRCwPGQKqz8snVM0/+u31zGNA', NULL, false, 'grace.hopper@example.com', 'Grace', 'Hopper', 'Grace.Hopper@example.com', false, true, '2020-07-15 06:30:00+00'),
 -- BCryptSHA256PasswordHasher; password django-linus-pw
 (3, 'bcrypt_sha256$$2b$12$JZQKuijHXzAdKilGqcgPf.tcHCcHMd730XvSx2yiK.c5m0R0/B5wO', NULL, false, 'linus', 'Linus', 'Torvalds', 'linus@example.org', true, true, '2021-01-02 03:04:05+00'),
 -- MD5PasswordHasher: not importable, named in private metadata
 (4, 'md5$EvH2JQykpLqe$2d0c5a4f7c1a3e6f0b8d9e2c4a6b8d0f', NULL, false, 'alan', 'Alan', 'Turing', 'alan.turing@example.co.uk', false, true, '2018-06-23 12:00:00+00'),
 -- set_unusable_password(); inactive: banned
 (5, '!Xw3Zq9vLm2Pp8Rr4Tt6Yy0Uu1Ii5Oo7Aa2Ss4Dd', NULL, false, 'edsger', 'Edsger', 'Dijkstra', 'edsger@example.nl', false, false, '2017-05-11 08:00:00+00');
