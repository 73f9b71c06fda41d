#!/bin/sh
# Prepares the dev OpenBao for the production example, as examples/production/setup-vault.mjs
# does, with an admin token (BAO_TOKEN) the host never sees:
#   1. the AppRole auth method at approle/ (if it is not enabled yet);
#   2. policy onex-production-example: read secret/data/onex/production/*, nothing else;
#   3. AppRole role onex-production-example with that policy, whose role_id and secret_id
#      are the ones the host is given (VAULT_ROLE_ID, VAULT_SECRET_ID);
#   4. the database URL (ONEX_DB_URL) at secret/data/onex/production/db, key url.
# Safe to run again. POSIX sh: the openbao image has no bash. Needs the `bao` CLI.
set -eu

: "${BAO_ADDR:?set BAO_ADDR}"
: "${BAO_TOKEN:?set BAO_TOKEN (a root or admin token)}"
: "${VAULT_ROLE_ID:?set VAULT_ROLE_ID}"
: "${VAULT_SECRET_ID:?set VAULT_SECRET_ID}"
: "${ONEX_DB_URL:?set ONEX_DB_URL}"
export BAO_ADDR BAO_TOKEN

role=onex-production-example
policy=onex-production-example

if bao auth list -format=json | grep -q '"approle/"'; then
  echo "openbao-init: AppRole already enabled at approle/"
else
  bao auth enable approle
fi

bao policy write "$policy" - <<'POLICY'
# onex-production-example: the runtime host reads its own secrets, nothing else.
path "secret/data/onex/production/*" {
  capabilities = ["read"]
}
POLICY

# Tokens live an hour and are renewed by the host; at 4 h it logs in again with its secret_id.
bao write "auth/approle/role/$role" token_policies="$policy" token_ttl=1h token_max_ttl=4h
bao write "auth/approle/role/$role/role-id" role_id="$VAULT_ROLE_ID"
# A custom secret_id cannot be registered twice: look it up first.
if bao write -format=json "auth/approle/role/$role/secret-id/lookup" secret_id="$VAULT_SECRET_ID" 2>/dev/null | grep -q '"data"'; then
  echo "openbao-init: secret_id already registered"
else
  bao write -field=secret_id_accessor "auth/approle/role/$role/custom-secret-id" secret_id="$VAULT_SECRET_ID" >/dev/null
  echo "openbao-init: registered the host's secret_id"
fi

# The URL holds onex_app's password: passed on stdin (JSON), not as an argument.
printf '{"url": "%s"}\n' "$ONEX_DB_URL" | bao kv put -mount=secret onex/production/db -
echo "openbao-init: done"
