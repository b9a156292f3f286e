#!/usr/bin/env bash
# What-if of bicep/main.bicep against one environment's resource group: prints the changes a
# deployment would make. With --fail-on-change it exits 1 when any resource would change (the
# scheduled drift check: the environment no longer matches the parameters in the repository).
# Reads MYSQL_ADMIN_PASSWORD and SCHEME_CA_CERTIFICATE (base64 DER) from the environment, as the
# pipeline's secrets.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_ROOT
readonly DEPLOYMENT_NAME="switch"

ENVIRONMENT=""
RESOURCE_GROUP=""
FAIL_ON_CHANGE=false
while [ "$#" -gt 0 ]; do
    case "$1" in
        --environment) ENVIRONMENT="$2"; shift 2 ;;
        --resource-group) RESOURCE_GROUP="$2"; shift 2 ;;
        --fail-on-change) FAIL_ON_CHANGE=true; shift ;;
        *) echo "what-if: unknown argument $1" >&2; exit 2 ;;
    esac
done
fail() { echo "what-if: $*" >&2; exit 1; }
case "$ENVIRONMENT" in dev|test|prod) ;; *) fail "--environment must be dev, test or prod" ;; esac
[ -n "$RESOURCE_GROUP" ] || fail "--resource-group is required"
[ -n "${MYSQL_ADMIN_PASSWORD:-}" ] || fail "set MYSQL_ADMIN_PASSWORD"
[ -n "${SCHEME_CA_CERTIFICATE:-}" ] || fail "set SCHEME_CA_CERTIFICATE"

result="$(mktemp)"
trap 'rm -f "$result"' EXIT
az deployment group what-if \
    --resource-group "$RESOURCE_GROUP" \
    --name "$DEPLOYMENT_NAME" \
    --template-file "$REPO_ROOT/bicep/main.bicep" \
    --parameters "@$REPO_ROOT/bicep/environments/$ENVIRONMENT.parameters.json" \
    --parameters mysqlAdminPassword="$MYSQL_ADMIN_PASSWORD" schemeCaCertificate="$SCHEME_CA_CERTIFICATE" \
    --no-pretty-print --output json > "$result"

# Changes other than NoChange and Ignore (what-if's "not managed by this template") count.
n_changes="$(python3 - "$result" <<'PY'
import json, sys
changes = json.load(open(sys.argv[1])).get("changes", [])
counted = [it for it in changes if it.get("changeType") not in ("NoChange", "Ignore")]
for it in counted:
    print(f"{it.get('changeType')}: {it.get('resourceId')}", file=sys.stderr)
print(len(counted))
PY
)"
echo "what-if ($ENVIRONMENT, $RESOURCE_GROUP): $n_changes change(s)"
if [ "$FAIL_ON_CHANGE" = true ] && [ "$n_changes" -gt 0 ]; then
    fail "$ENVIRONMENT has drifted from the repository ($n_changes change(s)); deploy or fix the parameters"
fi
