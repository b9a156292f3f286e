#!/usr/bin/env bash
# The project's test command (README, Test; .ci/run runs exactly this). On a fresh Debian machine
# with only the Rust toolchain it installs what the suites need (MariaDB's programs, node and npm,
# python3 with checkov in a venv, curl, zip), uses the MariaDB answering on 127.0.0.1:3306 as
# root without a password or, when none does, starts a private one in a temporary directory on a
# free port (stopped and removed at exit), then checks formatting and clippy, and runs every Rust
# test and Mojaloop's Testing Toolkit (tests/ttk/run.sh). The MySQL half of the suites always runs: no MariaDB, no pass.
#
#   bash tests/run.sh
#
# Environment: LEDGER_TEST_MYSQL_URL, a server to use instead (e.g. mysql://root@db:3306).
set -euo pipefail
cd "$(dirname "$0")/.."

SHARED_SERVER=mysql://root@127.0.0.1:3306
MARIADB_WAIT_S=120
# Pinned to the version the deploy checks' accepted findings were reviewed against.
CHECKOV_VERSION=3.3.30
CHECKOV_VENV="${CHECKOV_VENV:-/opt/deploy-checks-venv}"
COSMOS_STAND_IN=functions/journal/cosmos-stand-in

log() { printf '==> %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else echo "tests/run.sh: needs root (or sudo) for: $*" >&2; exit 2
    fi
}

find_program() {
    local it
    for it in "$@"; do
        if command -v "$it" >/dev/null 2>&1; then command -v "$it"; return; fi
        if [ -x "$it" ]; then echo "$it"; return; fi
    done
    return 1
}

install_packages() {
    local missing=()
    find_program mariadbd /usr/sbin/mariadbd >/dev/null || missing+=(mariadb-server)
    command -v mariadb-admin >/dev/null 2>&1 || missing+=(mariadb-client)
    command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
    dpkg -s libssl-dev >/dev/null 2>&1 || missing+=(libssl-dev)
    command -v cc >/dev/null 2>&1 || missing+=(build-essential)
    command -v openssl >/dev/null 2>&1 || missing+=(openssl)
    # The deployment scripts build their zips with zip; the deploy checks run checkov in a venv.
    command -v zip >/dev/null 2>&1 || missing+=(zip)
    command -v unzip >/dev/null 2>&1 || missing+=(unzip)
    command -v python3 >/dev/null 2>&1 || missing+=(python3)
    python3 -m venv --help >/dev/null 2>&1 || missing+=(python3-venv)
    # The journal's Cosmos DB tests start the @zeit/cosmosdb-server stand-in; TTK runs on node.
    command -v node >/dev/null 2>&1 || missing+=(nodejs)
    command -v npm >/dev/null 2>&1 || missing+=(npm)
    # tests/ttk/run.sh waits for the emulator with curl.
    command -v curl >/dev/null 2>&1 || missing+=(curl)
    if [ "${#missing[@]}" -gt 0 ]; then
        log "installing ${missing[*]}"
        as_root apt-get update
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
    fi
}

install_checkov() {
    command -v checkov >/dev/null 2>&1 && return
    if [ ! -x "$CHECKOV_VENV/bin/checkov" ]; then
        log "installing checkov $CHECKOV_VERSION in $CHECKOV_VENV"
        as_root mkdir -p "$CHECKOV_VENV"
        as_root chown "$(id -u)" "$CHECKOV_VENV"
        python3 -m venv "$CHECKOV_VENV"
        "$CHECKOV_VENV/bin/pip" install --quiet "checkov==$CHECKOV_VERSION"
    fi
    export PATH="$CHECKOV_VENV/bin:$PATH"
}

# host port -> 0 when root without a password can run a query there.
answers() {
    mariadb --protocol=tcp -h"$1" -P"$2" -uroot -e 'SELECT 1' >/dev/null 2>&1
}

private_dir=""
private_pid=""
stop_private_mariadb() {
    if [ -n "$private_pid" ] && kill -0 "$private_pid" 2>/dev/null; then
        kill "$private_pid"
        wait "$private_pid" 2>/dev/null || true
    fi
    [ -n "$private_dir" ] && rm -rf "$private_dir"
    private_pid=""
    private_dir=""
}
trap stop_private_mariadb EXIT

start_private_mariadb() {
    local server install port user=()
    server="$(find_program mariadbd /usr/sbin/mariadbd /usr/libexec/mariadbd)"
    install="$(find_program mariadb-install-db /usr/bin/mariadb-install-db)"
    [ "$(id -u)" -eq 0 ] && user=(--user=root)
    private_dir="$(mktemp -d "${TMPDIR:-/tmp}/switch-test-mariadb.XXXXXX")"
    "$install" --no-defaults --datadir="$private_dir/data" --auth-root-authentication-method=normal \
        --skip-test-db "${user[@]}" >"$private_dir/install.log" 2>&1 \
        || { cat "$private_dir/install.log" >&2; exit 1; }
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    "$server" --no-defaults --datadir="$private_dir/data" --port="$port" --bind-address=127.0.0.1 \
        --socket="$private_dir/mysqld.sock" --pid-file="$private_dir/mysqld.pid" \
        --log-error="$private_dir/error.log" --skip-name-resolve --max-connections=1000 \
        --innodb-buffer-pool-size=256M "${user[@]}" &
    private_pid=$!
    for _ in $(seq 1 "$MARIADB_WAIT_S"); do
        if answers 127.0.0.1 "$port"; then
            export LEDGER_TEST_MYSQL_URL="mysql://root@127.0.0.1:$port"
            return
        fi
        kill -0 "$private_pid" 2>/dev/null || break
        sleep 1
    done
    echo "tests/run.sh: the private MariaDB did not start:" >&2
    tail -20 "$private_dir/error.log" >&2 || true
    exit 1
}

# Databases left on a shared server by tests that crashed before cleaning up.
drop_leftover_test_databases() {
    local dbs db
    dbs=$(mariadb --protocol=tcp -h127.0.0.1 -P3306 -uroot -N -e "SHOW DATABASES LIKE 'ledger\\_t\\_%'")
    for db in $dbs; do
        mariadb --protocol=tcp -h127.0.0.1 -P3306 -uroot -e "DROP DATABASE \`$db\`"
    done
}

choose_mariadb() {
    if [ -n "${LEDGER_TEST_MYSQL_URL:-}" ]; then
        log "MariaDB: $LEDGER_TEST_MYSQL_URL (LEDGER_TEST_MYSQL_URL)"
    elif answers 127.0.0.1 3306; then
        export LEDGER_TEST_MYSQL_URL="$SHARED_SERVER"
        drop_leftover_test_databases
        log "MariaDB: the server on 127.0.0.1:3306"
    else
        log "MariaDB: none answers on 127.0.0.1:3306 as root; starting a private one"
        start_private_mariadb
        log "MariaDB: private, $LEDGER_TEST_MYSQL_URL (data in $private_dir)"
    fi
}

install_packages
install_checkov
choose_mariadb

# The Cosmos DB stand-in the journal's tests start (they install it themselves when missing;
# installing it here keeps that out of the tests' run time).
if [ ! -d "$COSMOS_STAND_IN/node_modules/@zeit/cosmosdb-server" ]; then
    log "npm ci in $COSMOS_STAND_IN"
    npm ci --no-audit --no-fund --prefix "$COSMOS_STAND_IN"
fi

# The tree is rustfmt-formatted (rustfmt.toml) and clippy-clean; both are checked before the tests.
for component in rustfmt clippy; do
    rustup component list --installed 2>/dev/null | grep -q "^$component" || rustup component add "$component"
done
log "cargo fmt --all --check"
cargo fmt --all --check
log "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

log "disk: $(df -h . | tail -1)"
log "cargo test --workspace --locked"
cargo test --workspace --locked
log "tests/ttk/run.sh"
bash tests/ttk/run.sh
