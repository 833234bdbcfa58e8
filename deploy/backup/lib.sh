# Shared by backup.sh and restore.sh (sourced, not run): settings and database addressing.
# shellcheck shell=bash
# shellcheck disable=SC2034  # the variables are used by the scripts that source this file

DEFAULT_DATA_DIR=/var/lib/asbuilt
BACKUP_FORMAT=1
SQLITE_NAME=collector.db

die() {
    echo "error: $*" >&2
    exit 1
}

# Reads the ASBUILT_* assignments of a systemd environment file (KEY=VALUE, # comments, optional
# quotes). Only assignments: nothing in the file is executed, unlike `source`.
load_env_file() {
    local file=$1 line key value
    [[ -r $file ]] || die "cannot read environment file $file"
    while IFS= read -r line || [[ -n $line ]]; do
        line=${line#"${line%%[![:space:]]*}"}
        [[ -z $line || $line == \#* || $line == \;* ]] && continue
        key=${line%%=*}
        value=${line#*=}
        [[ $key == ASBUILT_* && $key =~ ^[A-Z0-9_]+$ ]] || continue
        if [[ $value == \"*\" || $value == \'*\' ]]; then
            value=${value:1:${#value}-2}
        fi
        export "$key=$value"
    done <"$file"
}

# postgresql, sqlite: which database the collector uses with these settings.
database_kind() {
    case ${ASBUILT_DATABASE_URL:-} in
        "" | sqlite*) echo sqlite ;;
        postgres*) echo postgresql ;;
        *) die "unsupported ASBUILT_DATABASE_URL scheme: ${ASBUILT_DATABASE_URL%%:*}" ;;
    esac
}

# The SQLite file: from a sqlite+aiosqlite:///PATH URL, else collector.db in the data directory.
sqlite_path() {
    local url=${ASBUILT_DATABASE_URL:-}
    if [[ -n $url ]]; then
        echo "${url#*:///}"
    else
        echo "$DATA_DIR/$SQLITE_NAME"
    fi
}

# The collector's SQLAlchemy URL as libpq (pg_dump, pg_restore, psql) takes it: no `+asyncpg` driver
# suffix, and asyncpg's `ssl=` query parameter is libpq's `sslmode=`.
libpq_url() {
    local url=$1
    url=${url/#postgresql+asyncpg:/postgresql:}
    url=${url/#postgres+asyncpg:/postgresql:}
    url=${url/\?ssl=/"?sslmode="}
    url=${url/\&ssl=/"&sslmode="}
    echo "$url"
}

# The options both scripts take. Sets FORCE (yes/no), TARGET (the one positional argument: the
# archive) and DATA_DIR, and exports the ASBUILT_* settings; `name` is how usage errors call TARGET.
parse_common_args() {
    local name=$1 env_file="" opt_data_dir="" opt_database_url="" opt_database_url_set=no
    shift
    FORCE=no
    TARGET=""
    while (($#)); do
        case $1 in
            --env-file) env_file=${2:?--env-file needs a file}; shift 2 ;;
            --data-dir) opt_data_dir=${2:?--data-dir needs a directory}; shift 2 ;;
            --database-url) opt_database_url=${2-}; opt_database_url_set=yes; shift 2 ;;
            --force) FORCE=yes; shift ;;
            -h | --help) usage; exit 0 ;;
            -*) usage >&2; die "unknown option $1" ;;
            *) [[ -z $TARGET ]] || { usage >&2; die "one $name only"; }; TARGET=$1; shift ;;
        esac
    done
    [[ -n $TARGET ]] || { usage >&2; die "$name is missing"; }
    [[ -n $env_file ]] && load_env_file "$env_file"
    [[ -n $opt_data_dir ]] && ASBUILT_DATA_DIR=$opt_data_dir
    [[ $opt_database_url_set == yes ]] && ASBUILT_DATABASE_URL=$opt_database_url
    DATA_DIR=${ASBUILT_DATA_DIR:-$DEFAULT_DATA_DIR}
}
