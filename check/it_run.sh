#!/bin/sh
# it_run.sh — `make run` as a newcomer uses it: it installs only what running needs (the
# package sets of scripts/deps.sh); started in a terminal (a pseudo-terminal here), the
# dashboard answers; a second `make run` on the same tree is refused and names
# SKIFF_VAR as the way out; a port in use names SKIFF_PORT; Ctrl-C stops every service and
# make ends with status 0 and no "make: *** ... Error 130"; outside a terminal SIGTERM
# stops scripts/run.sh with status 0 too.
. "$(dirname "$0")/lib.sh"

# ---- the package sets of scripts/deps.sh ------------------------------------------------
# With every package missing and no root, deps.sh prints the apt-get line of a set.
mkdir -p "$T/fakebin"
printf '#!/bin/sh\nexit 1\n' >"$T/fakebin/dpkg-query"
printf '#!/bin/sh\necho 1000\n' >"$T/fakebin/id"
chmod +x "$T/fakebin/dpkg-query" "$T/fakebin/id"
set_of() { PATH="$T/fakebin:$PATH" sh "$ROOT/scripts/deps.sh" "$@" 2>&1 | grep 'apt-get install'; }
run_set=$(set_of run)
check_match "make run's packages build and run skiff" " libgit2-dev .* redis-server lighttpd lighttpd-modules-lua bubblewrap .*nodejs" "$run_set"
check_nomatch "... and hold no test or bench tool" " (chromium|apache2|valgrind|wrk|nginx-light|check|python3)( |$)" "$run_set"
check_match "make check's add the test tools" " check .*apache2 .*chromium valgrind .*python3" "$(set_of check)"
check_match "make bench's add wrk and nginx with nchan" " wrk .*nginx-light libnginx-mod-nchan" "$(set_of bench)"
check_eq "an unknown set is refused" 2 "$(sh "$ROOT/scripts/deps.sh" tests >/dev/null 2>&1; echo $?)"

# ---- make run in a terminal -------------------------------------------------------------
# The terminal: runs COMMAND in a pseudo-terminal as its foreground job, writes what it prints
# to $CTL/out, creates $CTL/ready once "Press Ctrl-C" appeared, types ^C when $CTL/stop
# appears, and leaves the exit status in $CTL/status ("signal N" when killed by one).
cat >"$T/term.py" <<'PY'
import os, pty, select, signal, sys, time
ctl, argv = sys.argv[1], sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    # as a login shell would: a job started with & from a script ignores SIGINT
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)
    os.execvp(argv[0], argv)
out = open(os.path.join(ctl, "out"), "ab", buffering=0)
seen, sent, deadline = b"", False, time.time() + 300
while True:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            data = os.read(fd, 4096)
        except OSError:
            data = b""
        if not data:
            break
        out.write(data)
        seen = (seen + data)[-4096:]
        if b"Press Ctrl-C" in seen and not os.path.exists(os.path.join(ctl, "ready")):
            open(os.path.join(ctl, "ready"), "w").close()
    if not sent and (os.path.exists(os.path.join(ctl, "stop")) or time.time() > deadline):
        os.write(fd, b"\x03")
        sent = True
_, st = os.waitpid(pid, 0)
status = "signal %d" % os.WTERMSIG(st) if os.WIFSIGNALED(st) else str(os.WEXITSTATUS(st))
open(os.path.join(ctl, "status"), "w").write(status)
PY

PORT=$(free_port)
SSE=$(free_port)
CTL=$T/ctl
mkdir -p "$CTL"
export SKIFF_PORT=$PORT SKIFF_SSE_PORT=$SSE SKIFF_VAR=$T/var
# make's own build steps find everything built in SKIFF_BUILD_DIR (B= points it there)
python3 "$T/term.py" "$CTL" make -C "$ROOT" --no-print-directory B="$SKIFF_BUILD_DIR" run &
TERM_PID=$!
PIDS="$PIDS $TERM_PID"

if ! wait_for 120 test -e "$CTL/ready"; then
	fail "make run starts and says how to stop it"
	cat "$CTL/out" >&2
	finish
	exit 1
fi
ok "make run starts and says how to stop it"
check_match "it names the dashboard" "Dashboard +http://localhost:$PORT/" "$(cat "$CTL/out")"
check_eq "the dashboard answers" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' "http://localhost:$PORT/")"

# a second make run on the same tree (same SKIFF_VAR), on another port
out=$(SKIFF_PORT=$(free_port) SKIFF_SSE_PORT=$(free_port) \
	make -C "$ROOT" --no-print-directory B="$SKIFF_BUILD_DIR" run </dev/null 2>&1)
rc=$?
check_nomatch "a second make run on the same state directory fails" "^0$" "$rc"
check_match "... naming SKIFF_VAR as the way out" "another 'make run' is using the state directory $T/var.*SKIFF_VAR=" \
	"$(printf '%s' "$out" | tr '\n' ' ')"
# on the same port, with its own state directory
out=$(SKIFF_VAR=$T/var2 sh "$ROOT/scripts/run.sh" </dev/null 2>&1)
check_match "a busy port is named, with SKIFF_PORT and SKIFF_VAR" "port $PORT is already in use.*SKIFF_PORT=.*SKIFF_VAR=" \
	"$(printf '%s' "$out" | tr '\n' ' ')"
check_eq "... and that run started nothing" "" "$(ls "$T/var2" 2>/dev/null)"

# Ctrl-C in the terminal
touch "$CTL/stop"
wait_for 60 test -e "$CTL/status" || fail "make run ends after Ctrl-C"
check_eq "make run ends with status 0 after Ctrl-C" 0 "$(cat "$CTL/status" 2>/dev/null)"
check_match "it says it stopped" "run: stopped" "$(cat "$CTL/out")"
check_nomatch "make reports no error or interrupt" "make: \*\*\*|Error 130|Interrupt" "$(cat "$CTL/out")"
check_eq "Redis is stopped" 1 "$(redis-cli -s "$T/var/redis.sock" ping >/dev/null 2>&1; echo $?)"
check_eq "nothing listens on the port any more" "" "$(ss -Hltn "sport = :$PORT")"

# outside a terminal: SIGTERM to scripts/run.sh
SKIFF_PORT=$(free_port) SKIFF_SSE_PORT=$(free_port) SKIFF_VAR=$T/var3 \
	sh "$ROOT/scripts/run.sh" </dev/null >"$T/run3.out" 2>&1 &
RUN3=$!
PIDS="$PIDS $RUN3"
if wait_for 60 grep -q "Press Ctrl-C" "$T/run3.out"; then
	kill -TERM "$RUN3"
	wait "$RUN3"
	check_eq "outside a terminal, SIGTERM stops run.sh with status 0" 0 "$?"
	check_eq "... and its Redis" 1 "$(redis-cli -s "$T/var3/redis.sock" ping >/dev/null 2>&1; echo $?)"
else
	fail "run.sh starts outside a terminal"
	cat "$T/run3.out" >&2
fi
finish
