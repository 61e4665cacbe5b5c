#!/bin/sh
# Entry point of the Brain Gateway container image (it runs unchanged on a host too).
#
#   docker-entrypoint.sh [brain-gateway arguments]   start the gateway (the default)
#   docker-entrypoint.sh brainctl ARGS...             run the admin CLI instead
#
# Secrets may come as files, as Docker and Kubernetes mount them: for JWT_SECRET, VAULT_TOKEN,
# BRAIN_GATEWAY_SECRETS_KEY, DATABASE_URL, BRAIN_GATEWAY_MIGRATION_DATABASE_URL and REDIS_URL,
# <NAME>_FILE names a file whose content (one trailing newline removed) becomes <NAME>. A
# configuration file that cannot be read stops the start with one line naming the variable;
# everything else is checked by the gateway itself, which also names the field.
set -eu

gateway="${BRAIN_GATEWAY_BIN:-/usr/local/bin/brain-gateway}"
brainctl="${BRAINCTL_BIN:-/usr/local/bin/brainctl}"

if [ "${1:-}" = "brainctl" ]; then
  shift
  exec "$brainctl" "$@"
fi

for name in JWT_SECRET VAULT_TOKEN BRAIN_GATEWAY_SECRETS_KEY DATABASE_URL BRAIN_GATEWAY_MIGRATION_DATABASE_URL REDIS_URL; do
  eval "file=\${${name}_FILE:-}"
  [ -n "$file" ] || continue
  if [ ! -r "$file" ]; then
    echo "docker-entrypoint: ${name}_FILE: cannot read '$file'" >&2
    exit 64
  fi
  # $(...) drops trailing newlines, as secret files written with `echo` end with one.
  value="$(cat "$file")"
  export "$name=$value"
  unset "${name}_FILE"
done

: "${BRAIN_GATEWAY_CONFIG:=/etc/brain-gateway/brain-gateway.yaml}"
: "${BRAIN_GATEWAY_HOST:=0.0.0.0}"
export BRAIN_GATEWAY_CONFIG BRAIN_GATEWAY_HOST
if [ ! -r "$BRAIN_GATEWAY_CONFIG" ]; then
  echo "docker-entrypoint: BRAIN_GATEWAY_CONFIG: cannot read '$BRAIN_GATEWAY_CONFIG'" >&2
  exit 64
fi

# exec: the gateway replaces the shell (PID 1 in a container), so SIGTERM reaches it and it drains.
exec "$gateway" "$@"
