#!/usr/bin/env python3
"""A privwatch JSON lines recording for `privwatch import` throughput: N logins of alice on
db-7 (bash -> sudo cat /etc/shadow, psql, exits), 8 events each, 10 s apart.
Usage: bench/import/gen_recording.py OUT.jsonl [LOGINS=25000]"""
import datetime
import json
import sys

out = open(sys.argv[1], "w")
logins = int(sys.argv[2]) if len(sys.argv) > 2 else 25000
t0 = datetime.datetime(2026, 1, 5, 9, 0, 0, tzinfo=datetime.timezone.utc).timestamp()


def ev(base, kind, action, pid, ppid, uid, euid, exe, args, dt, extra=None):
    ts = datetime.datetime.fromtimestamp(base + dt, datetime.timezone.utc)
    d = {"@timestamp": ts.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
         "event": {"kind": "event", "action": action}, "host": {"name": "db-7"},
         "process": {"pid": pid, "parent": {"pid": ppid}, "executable": exe, "args": args,
                     "name": exe.split("/")[-1], "user": {"id": euid}, "real_user": {"id": uid}},
         "user": {"name": "alice" if uid == 1001 else "root",
                  "audit": {"id": 1001, "name": "alice"}},
         "privwatch": {"kind": kind, "audit_session_id": 7}}
    if extra:
        d.update(extra)
    return json.dumps(d) + "\n"


for i in range(logins):
    b = t0 + i * 10
    p = 1000 + (i * 4) % 30000
    out.write(ev(b, "exec", "exec", p, 1, 1001, 1001, "/usr/bin/bash", ["-bash"], 0))
    out.write(ev(b, "exec", "exec", p + 1, p, 1001, 0, "/usr/bin/sudo",
                 ["sudo", "cat", "/etc/shadow"], 1))
    out.write(ev(b, "exec", "exec", p + 2, p + 1, 0, 0, "/usr/bin/cat", ["cat", "/etc/shadow"], 2))
    out.write(ev(b, "file", "open", p + 2, p + 1, 0, 0, "/usr/bin/cat", ["cat"], 3,
                 {"file": {"path": "/etc/shadow"}}))
    out.write(ev(b, "exec", "exec", p + 3, p, 1001, 1001, "/usr/bin/psql", ["psql"], 4))
    out.write(ev(b, "exit", "end", p + 2, p + 1, 0, 0, "/usr/bin/cat", ["cat"], 5))
    out.write(ev(b, "exit", "end", p + 1, p, 1001, 0, "/usr/bin/sudo", ["sudo"], 6))
    out.write(ev(b, "exit", "end", p, 1, 1001, 1001, "/usr/bin/bash", ["bash"], 7))
