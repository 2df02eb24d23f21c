#!/usr/bin/env bash
# Regenerates ../vectors.json from the real software that writes each digest.
# Needs (Debian bookworm): python3-passlib python3-bcrypt python3-argon2
# python3-django python3-werkzeug php-cli php-symfony-password-hasher slapd
# nodejs npm; installs the npm package firebase-scrypt into a scratch folder.
# Tests only read vectors.json; they never run this.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

(cd "$scratch" && npm init -y >/dev/null && npm install --silent firebase-scrypt@2.2.0 >/dev/null)

{
  /usr/bin/python3 "$here/gen_python.py"
  php "$here/gen_php.php"
  NODE_PATH="$scratch/node_modules" node "$here/gen_node.js"
  # ldap_ssha from OpenLDAP's own slappasswd (4-byte salt).
  slapd_version=$(dpkg-query -W -f='${Version}' slapd)
  for pw in 'correct horse battery staple' 'pässwörd-€ ☃ 🔑' 'x'; do
    digest=$(slappasswd -h '{SSHA}' -s "$pw")
    /usr/bin/python3 -c 'import json,sys; print(json.dumps({"hasher":"ldap_ssha","password":sys.argv[1],"digest":sys.argv[2],"source":"slapd "+sys.argv[3]+" slappasswd -h {SSHA}"}, ensure_ascii=False))' \
      "$pw" "$digest" "$slapd_version"
  done
  # awscognito: no software writes it; the digest names the pool, client and
  # user, and Clerk checks the password against Cognito at first sign-in.
  for d in 'awscognito#us-east-1_AbCdEf123#1h2j3k4l5m6n7o8p9q0r1s2t3u#alice@example.com' \
           'awscognito#eu-west-2_Zx9Yw8Vu7#7a6b5c4d3e2f1g0h9i8j7k6l5m#bob_the_builder' \
           'awscognito#us-gov-west-1_Q1w2E3r4T#abc+def_123#a1b2c3d4-5e6f-7a8b-9c0d-e1f2a3b4c5d6'; do
    /usr/bin/python3 -c 'import json,sys; print(json.dumps({"hasher":"awscognito","password":"","digest":sys.argv[1],"source":"hand-written from Clerk'"'"'s documented format (no software writes it)"}))' "$d"
  done
} > "$scratch/all.jsonl"

/usr/bin/python3 - "$scratch/all.jsonl" "$here/../vectors.json" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
rows.sort(key=lambda r: r["hasher"])  # stable: keeps each generator's order
with open(sys.argv[2], "w", encoding="utf-8") as f:
    f.write("[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n]\n")
print(f"{len(rows)} vectors written to {sys.argv[2]}")
PY
