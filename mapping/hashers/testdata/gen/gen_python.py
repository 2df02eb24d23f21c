#!/usr/bin/python3
"""Writes test vectors (one JSON object per line) from the Python libraries
that write these digests: python3-passlib, python3-bcrypt, python3-argon2
(argon2-cffi), python3-django and python3-werkzeug, as Debian packages them.

Where a library writes a digest in a layout other than Clerk's, the vector is
the library's output re-assembled into Clerk's layout (said in "source"); where
no library writes the hasher at all, the vector comes from hashlib, an
independent implementation of the published algorithm (said in "source").

Run through gen.sh; tests never run this.
"""
import base64
import hashlib
import hmac
import json
import sys

import argon2
import bcrypt
import django
import passlib
import werkzeug
from django.conf import settings

settings.configure(PASSWORD_HASHERS=[])
django.setup()
from django.contrib.auth import hashers as dj  # noqa: E402
from passlib import hash as ph  # noqa: E402
from passlib.utils.binary import ab64_decode  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

PASSLIB = f"python3-passlib {passlib.__version__}"
BCRYPT = f"python3-bcrypt {bcrypt.__version__}"
ARGON2 = f"python3-argon2 (argon2-cffi) {argon2.__version__}"
DJANGO = f"python3-django {django.get_version()}"
WERKZEUG = f"python3-werkzeug {werkzeug.__version__}"
HASHLIB = f"python3 {sys.version.split()[0]} hashlib (independent implementation)"

PASSWORDS = [
    "correct horse battery staple",
    "pässwörd-€ ☃ 🔑",  # non-ASCII, and a character outside the BMP
    "x",
    "Tr0ub4dor&3 with spaces and $ dollars {braces}",
]


def emit(hasher, password, digest, source):
    print(json.dumps({"hasher": hasher, "password": password, "digest": digest, "source": source},
                     ensure_ascii=False))


def b64(raw):
    return base64.b64encode(raw).decode()


def main():
    for i, pw in enumerate(PASSWORDS):
        pwb = pw.encode()

        # bcrypt: python3-bcrypt writes $2b$ (and $2a$ on request).
        prefix = b"2a" if i % 2 else b"2b"
        emit("bcrypt", pw, bcrypt.hashpw(pwb, bcrypt.gensalt(rounds=4 + i % 2, prefix=prefix)).decode(), BCRYPT)

        # bcrypt_sha256_django: Django's own hasher, cost lowered for test speed.
        class FastBCryptSHA256(dj.BCryptSHA256PasswordHasher):
            rounds = 4
        emit("bcrypt_sha256_django", pw, FastBCryptSHA256().encode(pw, FastBCryptSHA256().salt()),
             DJANGO + " BCryptSHA256PasswordHasher (rounds=4)")

        # bcrypt_peppered: Devise computes bcrypt(password + pepper); Clerk's
        # digest carries the pepper after a '$'.
        pepper = ["a3f1c2e4d5b6978812345678deadbeef", "s3cr3t-Devise-p3pp3r", "p3pp3r$with$dollars", "Z"][i]
        digest = bcrypt.hashpw(pwb + pepper.encode(), bcrypt.gensalt(rounds=4)).decode()
        emit("bcrypt_peppered", pw, digest + "$" + pepper, BCRYPT + " of password+pepper, as Devise computes it")

        # md5 / sha256: passlib's hex digests.
        emit("md5", pw, ph.hex_md5.hash(pw), PASSLIB + " hex_md5")
        emit("sha256", pw, ph.hex_sha256.hash(pw), PASSLIB + " hex_sha256")

        # md5_salted: Django's salted MD5PasswordHasher (md5(salt+password)),
        # with its "md5$" prefix dropped to give Clerk's <salt>$<hash>.
        d = dj.MD5PasswordHasher().encode(pw, dj.MD5PasswordHasher().salt())
        emit("md5_salted", pw, d[len("md5$"):], DJANGO + " MD5PasswordHasher, md5$ prefix dropped")

        # sha256_salted: no packaged library writes it; hashlib, salt after
        # (even i) or before (odd i) the password.
        salt = ["s4lt", "NaCl-1234567890", "x", "abcdefghijklmnopqrstuvwxyz012345"][i]
        msg = (pw + salt) if i % 2 == 0 else (salt + pw)
        order = "sha256(password+salt)" if i % 2 == 0 else "sha256(salt+password)"
        emit("sha256_salted", pw, salt + "$" + hashlib.sha256(msg.encode()).hexdigest(), HASHLIB + " " + order)
        if i == 0:
            emit("md5_salted", pw, salt + "$" + hashlib.md5((pw + salt).encode()).hexdigest(),
                 HASHLIB + " md5(password+salt)")

        # pbkdf2_sha1, first form: Werkzeug's pbkdf2:sha1 (text salt, hex
        # hash), re-assembled as pbkdf2_sha1$<iterations>$<salt>$<hash hex>.
        iters = [1000, 2000, 1, 4096][i]
        w = generate_password_hash(pw, method=f"pbkdf2:sha1:{iters}", salt_length=[8, 16, 12, 22][i])
        method, wsalt, whash = w.split("$")
        emit("pbkdf2_sha1", pw, f"pbkdf2_sha1${iters}${wsalt}${whash}", WERKZEUG + " pbkdf2:sha1, re-assembled")

        # pbkdf2_sha1, second form: passlib's pbkdf2_sha1, salt and hash
        # re-encoded from adapted base64 to hex, with the key length.
        p = ph.pbkdf2_sha1.using(rounds=[1000, 5000, 1, 131000][i], salt_size=[16, 8, 4, 32][i]).hash(pw)
        _, _, rounds, s, h = p.split("$")
        raw_s, raw_h = ab64_decode(s), ab64_decode(h)
        emit("pbkdf2_sha1", pw, f"pbkdf2_sha1${rounds}${raw_s.hex()}${raw_h.hex()}${len(raw_h)}",
             PASSLIB + " pbkdf2_sha1, re-encoded to hex")

        # pbkdf2_sha256: passlib's pbkdf2_sha256, re-encoded to standard
        # base64 with padding.
        p = ph.pbkdf2_sha256.using(rounds=[1000, 29000, 1, 3000][i], salt_size=[16, 12, 8, 24][i]).hash(pw)
        _, _, rounds, s, h = p.split("$")
        emit("pbkdf2_sha256", pw, f"pbkdf2_sha256${rounds}${b64(ab64_decode(s))}${b64(ab64_decode(h))}",
             PASSLIB + " pbkdf2_sha256, re-encoded to standard base64")

        # pbkdf2_sha256_django: Django's own PBKDF2PasswordHasher; the first at
        # Django 3.2's default iterations, the rest lowered for test speed.
        class FastPBKDF2(dj.PBKDF2PasswordHasher):
            iterations = [dj.PBKDF2PasswordHasher.iterations, 10000, 1, 36000][i]
        salt = FastPBKDF2().salt() if i != 2 else "abcdefghijkl"  # Django < 3.1 salts were 12 chars
        emit("pbkdf2_sha256_django", pw, FastPBKDF2().encode(pw, salt),
             DJANGO + f" PBKDF2PasswordHasher (iterations={FastPBKDF2.iterations})")

        # pbkdf2_sha512: Werkzeug's pbkdf2:sha512 (text salt, hex hash),
        # re-assembled.
        iters = [1000, 2500, 1, 10000][i]
        w = generate_password_hash(pw, method=f"pbkdf2:sha512:{iters}", salt_length=16)
        method, wsalt, whash = w.split("$")
        emit("pbkdf2_sha512", pw, f"pbkdf2_sha512${iters}${wsalt}${whash}", WERKZEUG + " pbkdf2:sha512, re-assembled")

        # pbkdf2_sha512_hex: passlib's pbkdf2_sha512, re-encoded to hex.
        p = ph.pbkdf2_sha512.using(rounds=[1000, 25000, 1, 2000][i], salt_size=[16, 32, 8, 64][i]).hash(pw)
        _, _, rounds, s, h = p.split("$")
        emit("pbkdf2_sha512_hex", pw, f"pbkdf2_sha512_hex${rounds}${ab64_decode(s).hex()}${ab64_decode(h).hex()}",
             PASSLIB + " pbkdf2_sha512, re-encoded to hex")

        # phpass ($P$, WordPress < 6.8) and md5_phpass ($H$, phpBB3): passlib.
        emit("phpass", pw, ph.phpass.using(rounds=[8, 10, 7, 13][i]).hash(pw), PASSLIB + " phpass")
        emit("md5_phpass", pw, ph.phpass.using(ident="H", rounds=[8, 11, 7, 9][i]).hash(pw), PASSLIB + " phpass ident H")

        # argon2i / argon2id: argon2-cffi, with small costs for test speed.
        for typ, name in ((argon2.Type.I, "argon2i"), (argon2.Type.ID, "argon2id")):
            hasher = argon2.PasswordHasher(time_cost=[2, 3, 1, 2][i], memory_cost=[256, 512, 64, 128][i],
                                           parallelism=[1, 2, 1, 4][i], hash_len=[32, 16, 64, 32][i],
                                           salt_len=[16, 8, 32, 16][i], type=typ)
            emit(name, pw, hasher.hash(pw), ARGON2)
        emit("argon2id", pw, ph.argon2.using(type="ID", rounds=2, memory_cost=128, parallelism=1).hash(pw),
             PASSLIB + " argon2 (argon2-cffi backend)")

        # scrypt_werkzeug: Debian's Werkzeug 2.2 predates its scrypt method, so
        # this is hashlib.scrypt as Werkzeug 3 calls it (salt text as UTF-8,
        # dklen 64, hex), with Werkzeug 3's default n=32768 r=8 p=1 for the
        # first and lower costs for the rest.
        n, r, p = [(32768, 8, 1), (16384, 8, 1), (1024, 1, 1), (2048, 4, 2)][i]
        salt = ["Zp3kLq9aX7vB2mNc", "abcdefghijklmnop", "A", "0123456789abcdefXYZ"][i]
        h = hashlib.scrypt(pwb, salt=salt.encode(), n=n, r=r, p=p, maxmem=132 * n * r * p, dklen=64).hex()
        emit("scrypt_werkzeug", pw, f"scrypt:{n}:{r}:{p}${salt}${h}",
             HASHLIB + " scrypt as Werkzeug 3 calls it")

        # ldap_ssha: passlib's ldap_salted_sha1 (salt sizes 4 to 16).
        emit("ldap_ssha", pw, ph.ldap_salted_sha1.using(salt_size=[4, 8, 16, 12][i]).hash(pw),
             PASSLIB + " ldap_salted_sha1")

        # hmac_sha256_utf16_b64: no packaged library writes it; hmac/hashlib
        # over the UTF-16LE password, key and hash in standard base64 (the
        # layout this package assumes, see FORMATS.md).
        key = [b"0123456789abcdef", bytes(range(64)), b"k", hashlib.sha256(b"key").digest()][i]
        mac = hmac.new(key, pw.encode("utf-16-le"), hashlib.sha256).digest()
        emit("hmac_sha256_utf16_b64", pw, b64(key) + "$" + b64(mac), HASHLIB + " hmac sha256 over UTF-16LE")


if __name__ == "__main__":
    main()
