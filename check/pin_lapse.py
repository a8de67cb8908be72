#!/usr/bin/env python3
# pin_lapse.py — a Redis proxy for check/it_pin.sh that makes a build's GC pin lapse at an
# exact point of the build, not by timing luck: it forwards every command from its unix socket
# to Redis unchanged, one command and its answer at a time, and at the point chosen by the file
# MODE it deletes the build's pin (gc:pin:{id} and its deadline in gc:pins, as a sweep does with
# a pin whose deadline passed), runs a real sweep (RUN_ON_LAPSE, a command) when MODE says so,
# and only then goes on. Each lapse is one line in LOG.
#   pin_lapse.py LISTEN REDIS MODE LOG [RUN_ON_LAPSE...]
# MODE holds one word, read at every command:
#   none    forward everything
#   pinned  lapse as soon as a pin is made: once a pin call (EVAL/EVALSHA with 3 keys, the
#           third gc:pins) answered 1, before that answer reaches the build
#   repin   lapse before a deployment's second and later pin calls reach Redis
# followed by "+sweep" (pinned+sweep, repin+sweep): and run RUN_ON_LAPSE after the lapse.
import socket
import subprocess
import sys
import threading

LISTEN, REDIS, MODE, LOG = sys.argv[1:5]
RUN = sys.argv[5:]
pins_seen = {}
lock = threading.Lock()


def mode():
    try:
        with open(MODE) as f:
            return f.read().strip()
    except OSError:
        return "none"


def read_line(f):
    line = f.readline()
    if not line:
        raise EOFError
    return line


def read_command(f):
    """One RESP command from the client: (raw bytes, [args])."""
    first = read_line(f)
    raw = [first]
    if not first.startswith(b"*"):
        return b"".join(raw), first.split()
    args = []
    for _ in range(int(first[1:])):
        head = read_line(f)
        n = int(head[1:])
        body = f.read(n + 2)
        raw += [head, body]
        args.append(body[:-2])
    return b"".join(raw), args


def side(*cmd):
    """One command on a connection of our own; waits for its answer."""
    s = socket.socket(socket.AF_UNIX)
    s.connect(REDIS)
    out = b"*%d\r\n" % len(cmd) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in cmd)
    s.sendall(out)
    s.makefile("rb").readline()
    s.close()


def lapse(args, why, sweep):
    # a pin call: EVAL script 3 fence set pins id ...
    pin_set, pins, ident = args[4], args[5], args[6]
    side(b"DEL", pin_set)
    side(b"ZREM", pins, ident)
    note = "lapsed %s before %s" % (ident.decode(), why)
    if sweep and RUN:
        r = subprocess.run(RUN, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        note += "; then a sweep (exit %d)" % r.returncode
    with open(LOG, "a") as f:
        f.write(note + "\n")


def pin_call(args):
    """The id of a pin call (EVAL/EVALSHA, 3 keys, the third gc:pins), else None."""
    if len(args) < 7 or args[0].upper() not in (b"EVAL", b"EVALSHA") or args[2] != b"3":
        return None
    return args[6] if args[5].endswith(b"gc:pins") else None


def read_reply(f):
    """One RESP2 answer from Redis, raw."""
    line = read_line(f)
    if line[:1] == b"$":
        n = int(line[1:])
        return line + (f.read(n + 2) if n >= 0 else b"")
    if line[:1] == b"*":
        n = int(line[1:])
        return line + b"".join(read_reply(f) for _ in range(max(n, 0)))
    return line


def serve(client):
    upstream = socket.socket(socket.AF_UNIX)
    upstream.connect(REDIS)
    fc, fu = client.makefile("rb"), upstream.makefile("rb")
    try:
        while True:
            raw, args = read_command(fc)
            ident = pin_call(args)
            m, _, then = mode().partition("+")
            sweep = then == "sweep"
            if ident and m == "repin":
                with lock:
                    pins_seen[ident] = pins_seen.get(ident, 0) + 1
                    later = pins_seen[ident] > 1
                if later:
                    lapse(args, "its next pin call", sweep)
            upstream.sendall(raw)
            reply = read_reply(fu)
            if ident and m == "pinned" and reply == b":1\r\n":
                lapse(args, "its pin reached the build", sweep)
            client.sendall(reply)
    except (EOFError, OSError, ValueError):
        pass
    for s in (upstream, client):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


srv = socket.socket(socket.AF_UNIX)
srv.bind(LISTEN)
srv.listen(64)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
