#!/usr/bin/env bash
# Back up an asbuilt collector into one archive: its database and the files of its data directory.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: backup.sh [--env-file FILE] [--data-dir DIR] [--database-url URL] [--force] OUTPUT.tar.gz

Writes one archive (mode 0600: it holds the admin token) with
  database.pgdump   PostgreSQL, from `pg_dump -Fc` (a consistent snapshot; the service keeps running)
  collector.db      SQLite, from SQLite's online backup API (consistent while the service writes)
  data/             the data directory without the database: admin-token, web-session-key, ...
  admin-token-file  ASBUILT_ADMIN_TOKEN_FILE, when it lies outside the data directory
  MANIFEST          format, database kind, schema revision, time

Settings, later ones winning: ASBUILT_DATA_DIR / ASBUILT_DATABASE_URL / ASBUILT_ADMIN_TOKEN_FILE in the
environment, the --env-file (e.g. /etc/asbuilt/collector.env), the options. Default data directory:
/var/lib/asbuilt. Run it as the user the database trusts (e.g. `sudo -u asbuilt` with peer auth).

  --env-file FILE      read ASBUILT_* settings from this systemd environment file
  --data-dir DIR       the collector's data directory
  --database-url URL   the collector's database URL (postgresql+asyncpg://... or empty for SQLite)
  --force              overwrite OUTPUT if it exists
  -h, --help           this text
USAGE
}

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

parse_common_args OUTPUT "$@"
output=$TARGET
force=$FORCE

if [[ -e $output && $force != yes ]]; then
    die "$output exists; pass --force to overwrite it"
fi
[[ -d $DATA_DIR ]] || die "data directory $DATA_DIR does not exist"

umask 077
work=$(mktemp -d)
trap 'rm -rf "$work" "$output.partial"' EXIT
root=$work/asbuilt-backup
mkdir -p "$root/data"

kind=$(database_kind)
if [[ $kind == postgresql ]]; then
    url=$(libpq_url "$ASBUILT_DATABASE_URL")
    revision=$(psql --no-psqlrc -X -tA -v ON_ERROR_STOP=1 -d "$url" -c "SELECT version_num FROM alembic_version")
    pg_dump -Fc --no-owner --no-acl -d "$url" -f "$root/database.pgdump"
else
    db=$(sqlite_path)
    [[ -f $db ]] || die "no SQLite database at $db"
    # The backup API copies a consistent state even while the collector writes (WAL mode).
    revision=$(python3 - "$db" "$root/$SQLITE_NAME" <<'PY'
import sqlite3
import sys

source = sqlite3.connect(sys.argv[1], timeout=30)
target = sqlite3.connect(sys.argv[2])
with target:
    source.backup(target)
source.close()
ok = target.execute("PRAGMA integrity_check").fetchone()[0]
if ok != "ok":
    sys.exit(f"the copy failed its integrity check: {ok}")
print(target.execute("SELECT version_num FROM alembic_version").fetchone()[0])
target.close()
PY
)
fi

# Everything in the data directory but the SQLite database and its journal files, and never the
# vault's master keyring: with it, an archive would open every device password in the database.
# It is kept (and backed up) apart from these archives; see deploy/README.md, "The vault's keys".
find "$DATA_DIR" -mindepth 1 -maxdepth 1 ! -name "$SQLITE_NAME" ! -name "$SQLITE_NAME-*" \
    ! -name "vault.keys" ! -name "vault.keys.*" -exec cp -a {} "$root/data/" \;

token_file=${ASBUILT_ADMIN_TOKEN_FILE:-}
if [[ -n $token_file && $(dirname "$(realpath -m "$token_file")") != "$(realpath -m "$DATA_DIR")" ]]; then
    [[ -r $token_file ]] || die "cannot read ASBUILT_ADMIN_TOKEN_FILE $token_file"
    cp "$token_file" "$root/admin-token-file"
fi

cat >"$root/MANIFEST" <<MANIFEST
format=$BACKUP_FORMAT
database=$kind
revision=$revision
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
host=$(hostname)
MANIFEST

tar -C "$work" -czf "$output.partial" asbuilt-backup
mv -f "$output.partial" "$output"
echo "backup of the $kind database (schema $revision) and $DATA_DIR written to $output"
if [[ -f $DATA_DIR/vault.keys ]]; then
    echo "not in it: $DATA_DIR/vault.keys (the vault's master keys) — keep your own copy of it apart" >&2
fi
