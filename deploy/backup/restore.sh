#!/usr/bin/env bash
# Restore an asbuilt collector from an archive written by backup.sh. Stop the collector first.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: restore.sh [--env-file FILE] [--data-dir DIR] [--database-url URL] [--force] BACKUP.tar.gz

Puts back what backup.sh saved: the database (PostgreSQL with pg_restore into the database named by
the URL, which must exist; SQLite as collector.db in the data directory) and the data directory's files
(admin-token, web-session-key, ...). Stop the collector first (systemctl stop asbuilt-collector).

Nothing is overwritten without --force: not a PostgreSQL database that has tables, not an existing
SQLite file, not a file of the data directory. With --force, pg_restore --clean replaces the backed-up
objects. The database kind is the backup's: restore a PostgreSQL backup with a PostgreSQL URL.

Settings, later ones winning: ASBUILT_DATA_DIR / ASBUILT_DATABASE_URL / ASBUILT_ADMIN_TOKEN_FILE in the
environment, the --env-file (e.g. /etc/asbuilt/collector.env), the options.

  --env-file FILE      read ASBUILT_* settings from this systemd environment file
  --data-dir DIR       the collector's data directory (created when missing)
  --database-url URL   the collector's database URL (postgresql+asyncpg://... or empty for SQLite)
  --force              replace what is there
  -h, --help           this text
USAGE
}

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

parse_common_args BACKUP "$@"
archive=$TARGET
force=$FORCE
[[ -r $archive ]] || die "cannot read $archive"

umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xzf "$archive" -C "$work" --no-same-owner
root=$work/asbuilt-backup
[[ -f $root/MANIFEST ]] || die "$archive is not an asbuilt backup (no MANIFEST)"
manifest() { sed -n "s/^$1=//p" "$root/MANIFEST"; }
[[ $(manifest format) == "$BACKUP_FORMAT" ]] || die "$archive has backup format $(manifest format), not $BACKUP_FORMAT"
saved_kind=$(manifest database)
kind=$(database_kind)
[[ $saved_kind == "$kind" ]] ||
    die "$archive holds a $saved_kind database but the target is $kind: set ASBUILT_DATABASE_URL to match"

# Every refusal comes before the first change.
conflicts=()
if [[ $kind == postgresql ]]; then
    url=$(libpq_url "$ASBUILT_DATABASE_URL")
    tables=$(psql --no-psqlrc -X -tA -v ON_ERROR_STOP=1 -d "$url" \
        -c "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
    ((tables == 0)) || conflicts+=("the database has $tables tables")
else
    db=$(sqlite_path)
    [[ -e $db ]] && conflicts+=("$db")
fi
while IFS= read -r -d '' entry; do
    [[ -e $DATA_DIR/${entry#"$root/data/"} ]] && conflicts+=("$DATA_DIR/${entry#"$root/data/"}")
done < <(find "$root/data" -mindepth 1 -maxdepth 1 -print0)
token_file=${ASBUILT_ADMIN_TOKEN_FILE:-}
if [[ -f $root/admin-token-file ]]; then
    [[ -n $token_file ]] || die "the backup has an admin token file outside the data directory: set ASBUILT_ADMIN_TOKEN_FILE"
    [[ -e $token_file ]] && conflicts+=("$token_file")
fi
if ((${#conflicts[@]})) && [[ $force != yes ]]; then
    printf 'would overwrite: %s\n' "${conflicts[@]}" >&2
    die "refusing to overwrite; pass --force to replace them"
fi

mkdir -p "$DATA_DIR"
if [[ $kind == postgresql ]]; then
    pg_restore --clean --if-exists --no-owner --no-acl --single-transaction --exit-on-error \
        -d "$url" "$root/database.pgdump"
else
    # A stale WAL beside the new file would be replayed into it: remove the journal files too.
    rm -f "$db-wal" "$db-shm" "$db-journal"
    mkdir -p "$(dirname "$db")"
    cp "$root/$SQLITE_NAME" "$db.restoring"
    mv -f "$db.restoring" "$db"
fi
cp -a "$root/data/." "$DATA_DIR/"
if [[ -f $root/admin-token-file ]]; then
    if [[ -e $token_file ]]; then
        cat "$root/admin-token-file" >"$token_file" # keeps the file's owner and mode
    else
        mkdir -p "$(dirname "$token_file")"
        cp "$root/admin-token-file" "$token_file"
        echo "note: $token_file is new (mode 0600, owner $(id -un)): let the asbuilt user read it" >&2
    fi
fi
# Run as root: hand the files to the data directory's owner (the service user).
if ((EUID == 0)); then
    chown -R --reference="$DATA_DIR" "$DATA_DIR"
fi
echo "restored the $kind database (schema $(manifest revision)) and $DATA_DIR from $archive"
echo "start the collector: it migrates a backup of an older version on start"
