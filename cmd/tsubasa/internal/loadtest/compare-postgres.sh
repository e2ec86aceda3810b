#!/usr/bin/env bash
# compare-postgres.sh: every loadtest scenario on one bbolt server and on two
# replicas sharing one local PostgreSQL, runs alternated (bolt, PostgreSQL,
# bolt, …) so that the machine's drift hits both alike; medians of ROUNDS.
#
#   cmd/tsubasa/internal/loadtest/compare-postgres.sh            # from the module root
#   ROUNDS=3 DURATION=10s SCENARIOS="sso refresh" cmd/…/compare-postgres.sh
#
# Needs go, jq and PostgreSQL's server binaries (Debian: apt-get install
# postgresql; /usr/lib/postgresql/*/bin). As root, initdb and the server
# run as the user postgres. PostgreSQL runs durable (fsync and
# synchronous_commit on, as bbolt fsyncs every commit), on a Unix socket in
# a new temporary directory, which the script removes at the end
# (KEEP=1 keeps it). Prints a table of medians and the raw runs' file.
#
# RATE=N offers N iterations per second on a schedule (the load command's
# --rate, open loop) instead of as fast as the workers go: the same load
# on both backends, whose latency and CPU per iteration then compare at
# that load (the rate a run reaches is the offer, unless a backend cannot
# keep up). WORKERS=N overrides the workers per scenario; an open loop
# needs rate × latency of them.
#
# REPLICA_GOMAXPROCS=N runs each replica with GOMAXPROCS=N (default: the
# server's own choice, runtime.max_procs). PG_MAX_CONNS=N sets each
# replica's pool (storage.postgres.max_conns, default here 20).
#
# CPU, WAL and the statements are read over the measured run alone (the
# load command's --clock-file), not over its workers' preparation.
#
# PROFILE=DIR also profiles every run: each server's CPU profile (Go's
# pprof, through metrics.pprof on its loopback management listener) over
# the run, DIR/<backend>-<scenario>-<round>-<pid>.pprof, and
# on PostgreSQL the statements' cost per iteration from pg_stat_statements,
# DIR/postgres-<scenario>-<round>-statements.tsv. Profiling costs CPU:
# compare rates from runs without it.
set -euo pipefail

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
SCENARIOS=${SCENARIOS:-"login sso refresh client-credentials userinfo introspect discovery jwks"}
MEMBERS=${MEMBERS:-64}

workers() { # the workers per scenario of the README's table
	[ -n "${WORKERS:-}" ] && { echo "$WORKERS"; return; }
	case $1 in
	login) echo 16 ;; sso) echo 48 ;; discovery | jwks) echo 32 ;; *) echo 64 ;;
	esac
}

command -v jq >/dev/null || { echo "compare-postgres: jq is required" >&2; exit 2; }
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$pgbin/initdb" ] || { echo "compare-postgres: no PostgreSQL in /usr/lib/postgresql/*/bin (apt-get install postgresql)" >&2; exit 2; }

dir=$(mktemp -d -t tsubasa-compare.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ -f "$dir/pg/postmaster.pid" ]; then as_pg "$pgbin/pg_ctl" -D "$dir/pg" -m fast stop >/dev/null 2>&1 || true; fi
	[ "${KEEP:-}" = 1 ] || rm -rf "$dir"
}
trap cleanup EXIT

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)); }
cputicks() { # user+system clock ticks of the given pids, in one read
	local files=() p
	for p in "$@"; do files+=("/proc/$p/stat"); done
	cat "${files[@]}" 2>/dev/null | awk '{t += $14 + $15} END {print t + 0}' # gone processes count nothing
}
pgpids() { echo "$pgmaster" $(pgrep -P "$pgmaster" || true); }
pgkinds() { # "kind ticks" of each PostgreSQL process: its title's first word after postgres:
	local files=() p pids
	pids=$(pgpids)
	for p in $pids; do files+=("/proc/$p/stat"); done
	awk 'NR == FNR {kind[$1] = ($2 == "postgres:" ? $3 : "postmaster"); next}
		{t[kind[$1]] += $14 + $15} END {for (k in t) print k, t[k]}' \
		<(ps -o pid=,args= -p "$(tr ' ' ',' <<<"$pids")") <(cat "${files[@]}" 2>/dev/null) | sort
}

echo "building tsubasa…" >&2
go build -o "$dir/tsubasa" ./cmd/tsubasa
bin=$dir/tsubasa

# PostgreSQL: durable, modest buffers, on a socket in $dir.
mkdir -p "$dir/pg" "$dir/sock"
[ "$(id -u)" = 0 ] && chown postgres "$dir" "$dir/pg" "$dir/sock"
as_pg "$pgbin/initdb" -D "$dir/pg" -U tsubasa --auth=trust -E UTF8 >/dev/null
pgport=$(freeport)
pgprofile=""
if [ -n "${PROFILE:-}" ]; then
	mkdir -p "$PROFILE"
	PROFILE=$(cd "$PROFILE" && pwd)
	pgprofile="-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all"
fi
as_pg "$pgbin/pg_ctl" -D "$dir/pg" -l "$dir/pg.log" -w -o "-k $dir/sock -p $pgport -c listen_addresses='' \
	-c shared_buffers=256MB -c max_connections=100 -c fsync=on -c synchronous_commit=on $pgprofile" start >/dev/null
pgmaster=$(head -1 "$dir/pg/postmaster.pid")
as_pg "$pgbin/createdb" -h "$dir/sock" -p "$pgport" -U tsubasa tsubasa
pgurl="postgres://tsubasa@/tsubasa?host=$dir/sock&port=$pgport"
psql() { "$pgbin/psql" -h "$dir/sock" -p "$pgport" -U tsubasa -d tsubasa -XAtq -c "$1"; }
head -c 48 /dev/urandom | base64 >"$dir/master.secret"
chmod 600 "$dir/master.secret"

# One config for both: production-like (warn logs, default argon2id,
# password logins only, no alert mail).
config() { # $1 issuer, $2 storage section
	cat <<EOF
issuer: $1
secret_file: $dir/master.secret
log:
  level: warn
otp:
  on_login: never
alerts:
  enabled: false
metrics:
  pprof: $([ -n "${PROFILE:-}" ] && echo true || echo false)
loadtest:
  allow_setup: true
mail:
  from: "Tsubasa <no-reply@tsubasa.test>"
  smtp:
    host: 127.0.0.1
    port: 9
    tls: none
sms:
  driver: webhook
  webhook:
    url: http://127.0.0.1:9/unused
$2
EOF
}
bport=$(freeport)
config "http://127.0.0.1:$bport" "storage:
  bolt:
    path: $dir/tsubasa.db" >"$dir/bolt.yaml"
# The replicas share the issuer http://127.0.0.1:$iport, where nothing
# listens: the load command connects to the replicas' own ports (--target).
iport=$(freeport)
config "http://127.0.0.1:$iport" "storage:
  postgres:
    url: '$pgurl'
    sslmode: disable
    max_conns: ${PG_MAX_CONNS:-20}" >"$dir/pg.yaml"

declare -A mport # each server's management port, by pid
serve() { # $1 config, $2 listen port, $3 metrics port, $4 GOMAXPROCS or ""; prints the pid
	env ${4:+GOMAXPROCS=$4} TSUBASA_LISTEN=127.0.0.1:$2 TSUBASA_METRICS_LISTEN=127.0.0.1:$3 \
		"$bin" serve --config "$1" >>"$dir/serve-$2.log" 2>&1 &
	echo "$! $3"
}
waitready() {
	for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$1/readyz" >/dev/null 2>&1 && return; sleep 0.2; done
	echo "compare-postgres: the server on port $1 did not become ready:" >&2
	tail -20 "$dir/serve-$1.log" >&2
	exit 1
}
read -r b m <<<"$(serve "$dir/bolt.yaml" "$bport" "$(freeport)")"; pids+=("$b"); mport[$b]=$m
r1port=$(freeport); r2port=$(freeport)
read -r r1 m <<<"$(serve "$dir/pg.yaml" "$r1port" "$(freeport)" "${REPLICA_GOMAXPROCS:-}")"; pids+=("$r1"); mport[$r1]=$m
waitready "$bport"; waitready "$r1port"
read -r r2 m <<<"$(serve "$dir/pg.yaml" "$r2port" "$(freeport)" "${REPLICA_GOMAXPROCS:-}")"; pids+=("$r2"); mport[$r2]=$m
waitready "$r2port"
if [ -n "${PROFILE:-}" ]; then psql "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null; fi

# --setup: through the admin socket on bbolt, on the database on PostgreSQL.
boltflags=$("$bin" loadtest --config "$dir/bolt.yaml" --setup --members "$MEMBERS" --json | jq -r .flags)
pgflags=$("$bin" loadtest --config "$dir/pg.yaml" --setup --members "$MEMBERS" --json | jq -r .flags)
pgtargets="--target http://127.0.0.1:$r1port --target http://127.0.0.1:$r2port"

raw=$dir/runs.tsv
printf 'backend\tscenario\tround\tper_s\tp50_ms\tp99_ms\terrors\ttsubasa_cpu_ms\tpostgres_cpu_ms\tother_cpu_s\tload1\twal_bytes\twal_syncs\n' >"$raw"
# WAL position and WAL flushes (fsyncs, pg_stat_wal.wal_sync): what
# PostgreSQL writes per iteration, and its write IOPS on the WAL. The
# flush count is the statistics collector's, which the backends report
# within about a second: a 10 s run's figure is close, not exact.
pgstate() { psql "SELECT pg_current_wal_lsn() || ' ' || wal_sync FROM pg_stat_wal"; }
hz=$(getconf CLK_TCK)
failed=0
run() { # $1 backend, $2 scenario, $3 round
	local flags servers pg0=0 pg1=0 s0 s1 out wal=0 syncs=0 st0="" st1=""
	if [ "$1" = bolt ]; then flags="--config $dir/bolt.yaml $boltflags"; servers="$b"; cfg=bolt
	else flags="--config $dir/pg.yaml $pgflags $pgtargets"; servers="$r1 $r2"; cfg=pg; fi
	# The load command marks the measured run in a clock file (after its
	# workers' preparation: logins, tokens), so that CPU, WAL and the
	# statements are read over the run alone.
	local clock=$dir/clock lt
	: >"$clock"
	# shellcheck disable=SC2086
	"$bin" loadtest $flags --scenario "$2" --concurrency "$(workers "$2")" --duration "$DURATION" --json \
		--rate "${RATE:-0}" --clock-file "$clock" >"$dir/out.json" &
	lt=$!
	waitmark() { while ! grep -qx "$1" "$clock" && kill -0 "$lt" 2>/dev/null; do sleep 0.02; done; }
	waitmark start
	s0=$(cputicks $servers); [ "$cfg" = pg ] && pg0=$(cputicks $(pgpids))
	local profs=() kinds0=""
	if [ -n "${PROFILE:-}" ]; then
		[ "$cfg" = pg ] && psql "SELECT pg_stat_statements_reset()" >/dev/null && kinds0=$(pgkinds)
		local secs=$(($(sed 's/s$//' <<<"$DURATION") - 1)) p
		for p in $servers; do
			curl -fsS -o "$PROFILE/$1-$2-$3-$p.pprof" "http://127.0.0.1:${mport[$p]}/debug/pprof/profile?seconds=$secs" &
			profs+=($!)
		done
	fi
	[ "$cfg" = pg ] && st0=$(pgstate)
	waitmark stop
	s1=$(cputicks $servers); [ "$cfg" = pg ] && pg1=$(cputicks $(pgpids))
	local kinds1=""
	[ -n "${PROFILE:-}" ] && [ "$cfg" = pg ] && kinds1=$(pgkinds)
	if ! wait "$lt" || ! grep -qx stop "$clock"; then
		# Recorded and kept going: one failed run must not lose the others.
		printf '%s\t%s\t%s\tfailed\n' "$1" "$2" "$3" >>"$raw"
		failed=1
		[ ${#profs[@]} -gt 0 ] && wait "${profs[@]}"
		return 0
	fi
	out=$(cat "$dir/out.json")
	[ ${#profs[@]} -gt 0 ] && wait "${profs[@]}"
	if [ -n "${PROFILE:-}" ] && [ "$cfg" = pg ]; then
		# Per iteration: calls and milliseconds of each statement.
		local its
		its=$(jq -r '.iterations' <<<"$out")
		# PostgreSQL's CPU by kind of process (the pool's backends,
		# autovacuum, the WAL writer …), ms per iteration; a process that
		# ended during the run is not counted.
		join -a2 -e 0 -o 0,1.2,2.2 <(echo "$kinds0") <(echo "$kinds1") |
			awk -v its="$its" -v hz="$hz" '{printf "%s\t%.3f\n", $1, ($3 - $2) * 1000 / hz / its}' >"$PROFILE/$1-$2-$3-pgcpu.tsv"
		psql "SELECT round(calls::numeric / $its, 2), round((total_exec_time / $its)::numeric, 3), round((total_plan_time / $its)::numeric, 3),
			round(wal_bytes::numeric / $its), left(regexp_replace(query, '\s+', ' ', 'g'), 400)
			FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 40" |
			sed '1i calls_per_it\texec_ms_per_it\tplan_ms_per_it\twal_bytes_per_it\tquery' | tr '|' '\t' >"$PROFILE/$1-$2-$3-statements.tsv"
	fi
	if [ "$cfg" = pg ]; then
		sleep 1.5 # let the backends flush their statistics
		st1=$(pgstate)
		wal=$(psql "SELECT pg_wal_lsn_diff('${st1% *}', '${st0% *}')")
		syncs=$((${st1#* } - ${st0#* }))
	fi
	echo "$out" >>"$dir/runs.json"
	jq -r --arg be "$1" --arg r "$3" --argjson st $((s1 - s0)) --argjson pt $((pg1 - pg0)) --argjson hz "$hz" \
		--arg load "$(cut -d' ' -f1 /proc/loadavg)" --argjson wal "$wal" --argjson syncs "$syncs" \
		'[$be, .scenario, $r, .iterations_per_second, .p50_ms, .p99_ms, ((.errors | add) // 0),
		  (if .iterations > 0 then ($st * 1000 / $hz / .iterations * 1000 | round / 1000) else 0 end),
		  (if .iterations > 0 then ($pt * 1000 / $hz / .iterations * 1000 | round / 1000) else 0 end),
		  .other_cpu_s, $load,
		  (if .iterations > 0 then ($wal / .iterations | round) else 0 end),
		  (if .iterations > 0 then ($syncs / .iterations * 100 | round / 100) else 0 end)] | @tsv' <<<"$out" >>"$raw"
	tail -1 "$raw" >&2
}
echo "uptime before: $(uptime)" >&2
for round in $(seq "$ROUNDS"); do
	for sc in $SCENARIOS; do
		# Alternate which backend goes first from round to round.
		if [ $((round % 2)) = 1 ]; then run bolt "$sc" "$round"; run postgres "$sc" "$round"
		else run postgres "$sc" "$round"; run bolt "$sc" "$round"; fi
	done
done
echo "uptime after: $(uptime)" >&2

# Medians per backend and scenario, and PostgreSQL's share of bbolt's rate.
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
col() { awk -F'\t' -v be="$1" -v sc="$2" -v c="$3" '$1==be && $2==sc && $4!="failed" {print $c}' "$raw" | median; }
printf '\n%-19s %10s %8s %8s %10s | %10s %8s %8s %10s %10s %9s %8s %7s\n' scenario bolt/s p50 p99 cpu_ms pg/s p50 p99 cpu_ms pg_cpu_ms wal_bytes wal_syncs pg/bolt
for sc in $SCENARIOS; do
	bo=$(col bolt "$sc" 4); po=$(col postgres "$sc" 4)
	printf '%-19s %10s %8s %8s %10s | %10s %8s %8s %10s %10s %9s %8s %7s\n' "$sc" "$bo" "$(col bolt "$sc" 5)" "$(col bolt "$sc" 6)" \
		"$(col bolt "$sc" 8)" "$po" "$(col postgres "$sc" 5)" "$(col postgres "$sc" 6)" "$(col postgres "$sc" 8)" \
		"$(col postgres "$sc" 9)" "$(col postgres "$sc" 12)" "$(col postgres "$sc" 13)" "$(awk -v a="$po" -v b="$bo" 'BEGIN {if (b > 0) printf "%.2f", a / b}')"
done
out=${OUT:-./compare-postgres.tsv}
cp "$raw" "$out"
cp "$dir/runs.json" "${out%.tsv}.json"
errs=$(awk -F'\t' 'NR > 1 && ($7 > 0 || $4 == "failed")' "$raw")
if [ -n "$errs" ] || [ "$failed" = 1 ]; then
	echo "runs with errors or failed (the servers' logs are in ${out%.tsv}-logs/):" >&2
	echo "$errs" >&2
	mkdir -p "${out%.tsv}-logs" && cp "$dir"/serve-*.log "$dir/pg.log" "${out%.tsv}-logs/"
fi
echo "raw runs: $out and ${out%.tsv}.json" >&2
