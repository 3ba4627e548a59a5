"""Writes batched.rdb and batched.truth.json for one live server: sets (of
strings and of integers), hashes and sorted sets written the way bulk
loaders write them, a batch of members per command, into collections of
1 000 to 20 000 members; then per key what the server reports (TYPE,
OBJECT ENCODING, length, MEMORY USAGE key SAMPLES 0), then SAVE.

    <server> --port P --bind 127.0.0.1 --save "" --dir OUT &
    python capture_batched.py P OUT LABEL   # writes OUT/batched.rdb(.zst), OUT/batched.truth.json

A collection created by one command is sized for that command's members;
later commands grow it one member at a time, so a table that doubled
since is rehashed one bucket per insertion, and until it is done the old
bucket array is counted too. Whether the live server is caught mid-rehash
depends on the batch size and on where the size falls between two powers
of two: the sizes below straddle each doubling from 1 024 to 16 384.

Needs the `redis` client (pip install redis). Deterministic. The truth has
the shape of the shared corpus's truth files; the dump is compressed with
zstd when the `zstd` command is there (the reader decompresses it).
"""
import json
import os
import shutil
import subprocess
import sys
import time

import redis

port, out, label = int(sys.argv[1]), sys.argv[2], sys.argv[3]
r = redis.Redis(port=port)
r.flushall()

SIZES = [1200, 2300, 3000, 4500, 5500, 7000, 9000, 11000, 15000, 20000]
BATCHES = [100, 300, 1000]


def write(kind, key, n, batch):
    for start in range(0, n, batch):
        ids = range(start, min(n, start + batch))
        if kind == "set":
            r.sadd(key, *[f"m{i:06d}" for i in ids])
        elif kind == "intset":
            r.sadd(key, *[i * 7 + 1_000_000 for i in ids])
        elif kind == "hash":
            r.hset(key, mapping={f"f{i:06d}": "v" for i in ids})
        else:
            r.zadd(key, {f"m{i:06d}": i for i in ids})


for kind in ["set", "intset", "hash", "zset"]:
    for batch in BATCHES:
        for n in SIZES:
            write(kind, f"{kind}:b{batch}:n{n}", n, batch)

length = {"hash": "HLEN", "set": "SCARD", "zset": "ZCARD"}
started = time.time()
captured = int(started * 1000)
details = []
for key in sorted(r.scan_iter(count=1000)):
    ty = r.type(key).decode()
    details.append({
        "count": r.execute_command(length[ty], key),
        "encoding": r.object("encoding", key).decode(),
        "key": key.decode(),
        "key_hex": key.hex(),
        "memory_usage": r.memory_usage(key, samples=0),
        "pttl_ms": -1,
        "type": ty,
    })
elapsed = time.time() - started
r.save()
dump = os.path.join(out, "batched.rdb")
os.replace(os.path.join(out, "dump.rdb"), dump)
with open(dump, "rb") as f:
    header = f.read(9).decode()
name = "batched.rdb"
if shutil.which("zstd"):
    subprocess.run(["zstd", "-q", "-19", "-f", "--rm", dump], check=True)
    name += ".zst"
info = r.info("server")
truth = {
    "captured_at_ms": captured,
    "elapsed_s": round(elapsed, 3),
    "dbs": {"0": {"keys": len(details), "expires": 0, "scanned_keys": len(details),
                  "key_details": details}},
    "file": name,
    "generator": "testdata/rdb/capture_batched.py",
    "rdb_header": header,
    "server": {k: info.get(k) for k in ["arch_bits", "os", "redis_mode", "redis_version"]}
    | {"mem_allocator": r.info("memory")["mem_allocator"]},
    "server_label": label,
}
with open(os.path.join(out, "batched.truth.json"), "w") as f:
    json.dump(truth, f, indent=1, sort_keys=True)
    f.write("\n")
print(label, len(details), "keys", header, name)
