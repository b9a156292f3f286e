#!/usr/bin/env bash
# Deploys the switch to one resource group with the az CLI: infrastructure (bicep/main.bicep),
# then the code (a zip of host.json, the `handler` binary and one folder per function), then a
# smoke test (GET /health through API Management).
#
# Build: a static x86_64-unknown-linux-musl binary with vendored OpenSSL. The Flex Consumption
# image's glibc is not confirmed (azure.md §1.10, §9.3: Functions images have shipped glibc 2.31,
# and a binary built on a newer distro dies with `GLIBC_2.3x not found`), and the Event Hubs
# crate needs OpenSSL (native-tls), so a static musl binary with OpenSSL compiled in depends on
# nothing in the image. Needs `rustup target add x86_64-unknown-linux-musl`, the Debian package
# musl-tools, and the handler feature `vendored-openssl` (openssl/vendored). Pass
# --handler-binary to skip the build and package a binary built elsewhere.
#
# --dry-run prints every az command (and the build) instead of running it; packaging still runs
# when a binary is given, so the zip can be inspected. --package-only builds and packages and
# calls no az command: the Azure Developer CLI's prepackage hook (azure.yaml) and the pipeline
# use it. Requires: az, zip, and cargo unless --handler-binary is given.
#
# The package carries infra/mysql-ca.pem, the roots Azure Database for MySQL's server
# certificates chain to (DigiCert Global Root G2, Microsoft RSA Root Certificate Authority 2017,
# DigiCert Global Root CA), so TLS to the ledger does not depend on the Flex image's CA bundle;
# LEDGER_MYSQL_CA names it relative to the app root, the handler's working directory.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_ROOT
readonly MUSL_TARGET="x86_64-unknown-linux-musl"
readonly DEPLOYMENT_NAME="switch"
# How long the smoke test waits for the gateway (overridable for tests).
readonly HEALTH_ATTEMPTS_MAX="${DEPLOY_HEALTH_ATTEMPTS_MAX:-30}"
readonly HEALTH_RETRY_DELAY_S="${DEPLOY_HEALTH_RETRY_DELAY_S:-10}"
readonly EXPECTED_HEALTH_BODY='"status":"OK"'

usage() {
    cat <<'EOF'
usage: infra/deploy.sh --resource-group RG --environment dev|test|prod --scheme-ca FILE [options]
  --resource-group RG     resource group to create or update
  --location REGION       region (default: westeurope); must offer Flex Consumption
  --environment NAME      bicep/environments/NAME.parameters.json (dev, test or prod)
  --scheme-ca FILE        the scheme CA certificate (DER .cer, or PEM) that issues DFSP client certs
  --handler-binary PATH   package this binary instead of building one
  --out DIR               where the package is built (default: target/deploy)
  --skip-infra            deploy code only (reads the outputs of the last deployment)
  --dry-run               print the az commands instead of running them
  --package-only          build and package only (no az, no scheme CA, no password)
environment: MYSQL_ADMIN_PASSWORD (required unless --dry-run)
EOF
}

RESOURCE_GROUP=""
LOCATION="westeurope"
ENVIRONMENT=""
SCHEME_CA=""
HANDLER_BINARY=""
OUT_DIR="$REPO_ROOT/target/deploy"
SKIP_INFRA=false
DRY_RUN=false
PACKAGE_ONLY=false

while [ "$#" -gt 0 ]; do
    case "$1" in
        --resource-group) RESOURCE_GROUP="$2"; shift 2 ;;
        --location) LOCATION="$2"; shift 2 ;;
        --environment) ENVIRONMENT="$2"; shift 2 ;;
        --scheme-ca) SCHEME_CA="$2"; shift 2 ;;
        --handler-binary) HANDLER_BINARY="$2"; shift 2 ;;
        --out) OUT_DIR="$2"; shift 2 ;;
        --skip-infra) SKIP_INFRA=true; shift ;;
        --dry-run) DRY_RUN=true; shift ;;
        --package-only) PACKAGE_ONLY=true; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done

# Dry-run command lines go to fd 3 (the original stdout), so capturing a command's value with
# $(...) never captures the line that shows it.
exec 3>&1
fail() { echo "deploy: $*" >&2; exit 1; }
log() { echo "==> $*" >&2; }

[ "$PACKAGE_ONLY" = true ] || [ -n "$RESOURCE_GROUP" ] || fail "--resource-group is required"
case "$ENVIRONMENT" in dev|test|prod) ;; *) fail "--environment must be dev, test or prod" ;; esac
PARAMETERS="$REPO_ROOT/bicep/environments/$ENVIRONMENT.parameters.json"
[ -f "$PARAMETERS" ] || fail "no $PARAMETERS"
mkdir -p "$OUT_DIR"
OUT_DIR="$(cd "$OUT_DIR" && pwd)"
if [ "$SKIP_INFRA" = false ] && [ "$PACKAGE_ONLY" = false ]; then
    [ -n "$SCHEME_CA" ] || fail "--scheme-ca is required"
    [ -f "$SCHEME_CA" ] || fail "no scheme CA file $SCHEME_CA"
fi
if [ "$DRY_RUN" = false ] && [ "$SKIP_INFRA" = false ] && [ "$PACKAGE_ONLY" = false ] && [ -z "${MYSQL_ADMIN_PASSWORD:-}" ]; then
    fail "set MYSQL_ADMIN_PASSWORD"
fi

# Prints the command; runs it unless this is a dry run. Its output goes to stdout.
az_run() {
    if [ "$DRY_RUN" = true ]; then
        { printf '+ az'; printf ' %q' "$@"; printf '\n'; } >&3
        return 0
    fi
    az "$@"
}

# Like az_run, for commands whose output is a value the script needs: in a dry run, prints the
# command and answers the placeholder given first.
az_value() {
    local placeholder="$1"; shift
    if [ "$DRY_RUN" = true ]; then
        { printf '+ az'; printf ' %q' "$@"; printf '\n'; } >&3
        echo "$placeholder"
        return 0
    fi
    az "$@"
}

# The scheme CA as base64 of its DER form (APIM's encodedCertificate), from DER or PEM.
scheme_ca_base64() {
    if grep -q -- '-----BEGIN CERTIFICATE-----' "$SCHEME_CA"; then
        sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' "$SCHEME_CA" | sed '1d;$d' | tr -d '\r\n'
    else
        base64 -w0 < "$SCHEME_CA"
    fi
}

deploy_infrastructure() {
    log "infrastructure ($ENVIRONMENT) into $RESOURCE_GROUP ($LOCATION)"
    az_run account show --output none
    az_run group create --name "$RESOURCE_GROUP" --location "$LOCATION" --output none
    local password="${MYSQL_ADMIN_PASSWORD:-dry-run-password}"
    az_run deployment group create \
        --resource-group "$RESOURCE_GROUP" \
        --name "$DEPLOYMENT_NAME" \
        --template-file "$REPO_ROOT/bicep/main.bicep" \
        --parameters "@$PARAMETERS" \
        --parameters location="$LOCATION" mysqlAdminPassword="$password" schemeCaCertificate="$(scheme_ca_base64)" \
        --output none
}

deployment_output() {
    az_value "<$1>" deployment group show --resource-group "$RESOURCE_GROUP" --name "$DEPLOYMENT_NAME" \
        --query "properties.outputs.$1.value" --output tsv
}

build_handler() {
    if [ -n "$HANDLER_BINARY" ]; then
        [ -f "$HANDLER_BINARY" ] || fail "no handler binary at $HANDLER_BINARY"
        log "packaging the prebuilt binary $HANDLER_BINARY (its linkage is the builder's business)"
        return
    fi
    local command=(cargo build --release --locked -p handler --target "$MUSL_TARGET" --features handler/vendored-openssl)
    if [ "$DRY_RUN" = true ]; then
        { printf '+'; printf ' %q' "${command[@]}"; printf '\n'; } >&3
        HANDLER_BINARY=""
        return
    fi
    (cd "$REPO_ROOT" && "${command[@]}")
    HANDLER_BINARY="${CARGO_TARGET_DIR:-$REPO_ROOT/target}/$MUSL_TARGET/release/handler"
    # A static binary has no program interpreter; a dynamic one would need the image's libc.
    if readelf -l "$HANDLER_BINARY" | grep -q 'Requesting program interpreter'; then
        fail "$HANDLER_BINARY is dynamically linked"
    fi
}

# The flat layout the host expects (azure.md §1.1): host.json and the handler at the zip root,
# one folder per function with its function.json, the run bit kept.
package() {
    local stage="$OUT_DIR/package"
    rm -rf "$stage" "$OUT_DIR/app.zip"
    mkdir -p "$stage"
    cp "$REPO_ROOT/host.json" "$stage/host.json"
    install -m 0755 "$HANDLER_BINARY" "$stage/handler"
    cp "$REPO_ROOT/infra/mysql-ca.pem" "$stage/mysql-ca.pem"
    local folder name
    for folder in "$REPO_ROOT"/functions/bindings/*/; do
        name="$(basename "$folder")"
        [ -f "$folder/function.json" ] || fail "$folder has no function.json"
        mkdir -p "$stage/$name"
        cp "$folder/function.json" "$stage/$name/function.json"
    done
    (cd "$stage" && zip -q -X -r "$OUT_DIR/app.zip" host.json handler mysql-ca.pem ./*/function.json)
    log "package: $OUT_DIR/app.zip"
}

deploy_code() {
    local app="$1"
    log "code to $app"
    az_run functionapp deployment source config-zip --resource-group "$RESOURCE_GROUP" --name "$app" \
        --src "$OUT_DIR/app.zip" --output none
    az_run functionapp function list --resource-group "$RESOURCE_GROUP" --name "$app" --query "[].name" --output tsv
}

smoke_test() {
    local gateway="$1"
    log "smoke test: GET $gateway/health"
    local attempt body
    for attempt in $(seq 1 "$HEALTH_ATTEMPTS_MAX"); do
        if body="$(az_value "{$EXPECTED_HEALTH_BODY}" rest --method get --url "$gateway/health" --skip-authorization-header)" \
            && [[ "$body" == *"$EXPECTED_HEALTH_BODY"* ]]; then
            log "healthy"
            return
        fi
        log "not healthy yet (attempt $attempt of $HEALTH_ATTEMPTS_MAX)"
        sleep "$HEALTH_RETRY_DELAY_S"
    done
    fail "GET $gateway/health never answered $EXPECTED_HEALTH_BODY"
}

main() {
    if [ "$PACKAGE_ONLY" = true ]; then
        build_handler
        [ -n "$HANDLER_BINARY" ] && package
        return
    fi
    if [ "$SKIP_INFRA" = false ]; then
        deploy_infrastructure
    fi
    local app gateway
    app="$(deployment_output functionAppName)"
    gateway="$(deployment_output apimGatewayUrl)"
    build_handler
    if [ -n "$HANDLER_BINARY" ]; then
        package
    fi
    deploy_code "$app"
    smoke_test "$gateway"
}

main
