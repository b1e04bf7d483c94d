#!/usr/bin/env bash
# A local OpenID Connect provider for development and tests, without Docker: Keycloak's distribution from
# Maven Central (org.keycloak:keycloak-quarkus-dist), run on a Java 21+ JDK, with the realm kept as code in
# deploy/keycloak/ecomops-realm.json imported fresh on every start (dev mode, in-memory state).
#
#   scripts/infra/keycloak.sh start|stop|status
#
# Env: KEYCLOAK_PORT (18080), KEYCLOAK_VERSION, KEYCLOAK_JAVA_HOME (a JDK 21+; default: the newest under
#      /usr/lib/jvm), OIDC_ISSUER (if set, `start` does nothing: another provider is used).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KEYCLOAK_VERSION="${KEYCLOAK_VERSION:-26.7.3}"
KEYCLOAK_PORT="${KEYCLOAK_PORT:-18080}"
CACHE_DIR="$ROOT/.local/cache/keycloak-$KEYCLOAK_VERSION"
DIST="$CACHE_DIR/keycloak-$KEYCLOAK_VERSION"
HOME_DIR="$ROOT/.local/keycloak"
PID_FILE="$HOME_DIR/keycloak.pid"
LOG_FILE="$HOME_DIR/keycloak.log"
REALM="$ROOT/deploy/keycloak/ecomops-realm.json"
WELL_KNOWN="http://127.0.0.1:$KEYCLOAK_PORT/realms/ecomops/.well-known/openid-configuration"

lock() { mkdir -p "$HOME_DIR"; exec 9>"$HOME_DIR/.lock"; flock 9; }
log() { echo "keycloak: $*" >&2; }
die() { log "$*"; exit 1; }

java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/{print $2}'; }

find_java_home() {
  local candidate
  for candidate in ${KEYCLOAK_JAVA_HOME:-} $(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -rV); do
    candidate="${candidate%/}"
    if [ -x "$candidate/bin/java" ] && [ "$(java_major "$candidate" || echo 0)" -ge 21 ] 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  return 1
}

ensure_java() {
  JAVA_HOME="$(find_java_home)" && return 0
  [ "$(id -u)" -eq 0 ] || die "Keycloak needs a Java 21+ JDK; set KEYCLOAK_JAVA_HOME or install one"
  log "installing a Java 21+ runtime with apt"
  flock /tmp/ecomops-apt.lock sh -c "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    openjdk-25-jre-headless || DEBIAN_FRONTEND=noninteractive apt-get install -y -q openjdk-21-jre-headless" >&2
  JAVA_HOME="$(find_java_home)" || die "no Java 21+ runtime after installing one"
}

ensure_dist() {
  [ -f "$CACHE_DIR/.complete" ] && return
  command -v mvn >/dev/null || die "maven is needed to fetch Keycloak from Maven Central"
  log "fetching Keycloak $KEYCLOAK_VERSION from Maven Central (about 180 MB)"
  rm -rf "$CACHE_DIR" && mkdir -p "$CACHE_DIR"
  mvn -q -B dependency:copy -Dartifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" \
    -DoutputDirectory="$CACHE_DIR" >&2
  (cd "$CACHE_DIR" && unzip -q "keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip" && rm "keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip")
  touch "$CACHE_DIR/.complete"
}

running() { [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; }

start() {
  [ -n "${OIDC_ISSUER:-}" ] && { log "using $OIDC_ISSUER"; return 0; }
  lock
  # Serving the realm already (started here, or by another checkout of the project): use it.
  if curl -sf "$WELL_KNOWN" >/dev/null; then log "running on :$KEYCLOAK_PORT"; return 0; fi
  ensure_java
  ensure_dist
  # The realm is code: every start imports it afresh (dev mode keeps nothing else).
  rm -rf "$DIST/data" && mkdir -p "$DIST/data/import" && cp "$REALM" "$DIST/data/import/"
  log "starting on :$KEYCLOAK_PORT with $JAVA_HOME"
  # Its own session (process group), so `stop` ends kc.sh and the JVM together; fd 9 (the lock) stays here.
  JAVA_HOME="$JAVA_HOME" KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD=admin \
    setsid nohup "$DIST/bin/kc.sh" start-dev --http-host=127.0.0.1 --http-port="$KEYCLOAK_PORT" --import-realm \
    < /dev/null > "$LOG_FILE" 2>&1 9>&- &
  echo $! > "$PID_FILE"
  for _ in $(seq 1 240); do
    curl -sf "$WELL_KNOWN" >/dev/null && { log "ready: http://127.0.0.1:$KEYCLOAK_PORT/realms/ecomops"; return 0; }
    running || { tail -20 "$LOG_FILE" >&2; die "exited while starting (log: $LOG_FILE)"; }
    sleep 1
  done
  tail -20 "$LOG_FILE" >&2; die "not ready after 240 s (log: $LOG_FILE)"
}

stop() {
  lock
  if running; then
    local pid; pid="$(cat "$PID_FILE")"
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do pgrep -g "$pid" >/dev/null || break; sleep 1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    log "stopped"
  fi
  rm -f "$PID_FILE"
}

status() {
  if curl -sf "$WELL_KNOWN" >/dev/null; then log "ready on :$KEYCLOAK_PORT"; else log "down"; return 1; fi
}

case "${1:-}" in
  start) start ;; stop) stop ;; status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
