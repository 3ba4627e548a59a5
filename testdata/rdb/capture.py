"""Writes mixed.rdb and mixed.truth.json for one live server: a mixed
keyspace (every type, small and large encodings, TTLs, collections built by
one command), then per key what the server reports (TYPE, OBJECT ENCODING,
length, PTTL, MEMORY USAGE key SAMPLES 0), then SAVE.

    <server> --port P --bind 127.0.0.1 --save "" --dir OUT &
    python capture.py P OUT LABEL     # writes OUT/mixed.rdb, OUT/mixed.truth.json

Needs the `redis` client (pip install redis). Deterministic (fixed seed).
The truth has the shape of the shared corpus's truth files.
"""
import json
import os
import random
import sys
import time

import redis

port, out, label = int(sys.argv[1]), sys.argv[2], sys.argv[3]
r = redis.Redis(port=port)
r.flushall()
rng = random.Random(11)


def word(n):
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


p = r.pipeline(transaction=False)
for i in range(1500):
    k = i % 10
    if k == 0:
        p.set(f"str:{i}", word(rng.choice([1, 5, 20, 40, 44, 45, 60, 100, 500, 3000])))
    elif k == 1:
        p.set(f"int:{i}", rng.choice([0, 7, 9999, 10000, 123456789, -5, 2**40]))
    elif k == 2:
        p.set(f"ttl:{i}", word(rng.randint(1, 200)), ex=rng.randint(100, 100000))
    elif k == 3:
        p.hset(f"h:{i}", mapping={word(rng.randint(1, 12)): word(rng.randint(0, 30))
                                  for _ in range(rng.randint(1, 40))})
    elif k == 4:
        p.rpush(f"l:{i}", *[word(rng.randint(1, 40)) for _ in range(rng.randint(1, 60))])
    elif k == 5:
        p.sadd(f"si:{i}", *[rng.randint(0, 10**rng.randint(1, 12)) for _ in range(rng.randint(1, 100))])
    elif k == 6:
        p.sadd(f"ss:{i}", *[word(rng.randint(1, 30)) for _ in range(rng.randint(1, 100))])
    elif k == 7:
        p.zadd(f"z:{i}", {word(rng.randint(1, 20)): rng.random() * 1000 for _ in range(rng.randint(1, 100))})
    elif k == 8:
        p.xadd(f"x:{i}", {"f": word(10), "g": rng.randint(0, 100)})
    else:
        p.hset(f"u:{i}:profile", mapping={"name": word(8), "email": word(12) + "@x.io",
                                          "age": rng.randint(10, 90)})
p.execute()
# Collections past the small encodings, each written by one command.
for i in range(60):
    n = [129, 200, 513, 700, 1500][i // 5 % 5]
    k = i % 5
    if k == 0:
        r.hset(f"bh:{i}", mapping={word(rng.randint(1, 12)): word(rng.randint(0, 80)) for _ in range(n)})
    elif k == 1:
        r.sadd(f"bs:{i}", *[word(rng.randint(4, 30)) for _ in range(n)])
    elif k == 2:
        r.sadd(f"bi:{i}", *[rng.randint(0, 10**9) for _ in range(n)])
    elif k == 3:
        r.zadd(f"bz:{i}", {word(rng.randint(1, 30)): rng.random() for _ in range(n)})
    else:
        r.rpush(f"bl:{i}", *[word(rng.randint(1, 30)) for _ in range(n)])
r.sadd("big:intset", *range(0, 500))
for j in range(30):
    r.xadd("big:stream", {"a": j, "b": word(30)})

length = {"string": "STRLEN", "list": "LLEN", "hash": "HLEN", "set": "SCARD",
          "zset": "ZCARD", "stream": "XLEN"}
started = time.time()
captured = int(started * 1000)
details = []
expires = 0
for key in sorted(r.scan_iter(count=1000)):
    ty = r.type(key).decode()
    pttl = r.pttl(key)
    expires += pttl >= 0
    details.append({
        "count": r.execute_command(length[ty], key),
        "encoding": r.object("encoding", key).decode(),
        "key": key.decode(),
        "key_hex": key.hex(),
        "memory_usage": r.memory_usage(key, samples=0),
        "pttl_ms": pttl,
        "type": ty,
    })
elapsed = time.time() - started
r.save()
os.replace(os.path.join(out, "dump.rdb"), os.path.join(out, "mixed.rdb"))
with open(os.path.join(out, "mixed.rdb"), "rb") as f:
    header = f.read(9).decode()
info = r.info("server")
truth = {
    "captured_at_ms": captured,
    "elapsed_s": round(elapsed, 3),
    "dbs": {"0": {"keys": len(details), "expires": expires, "scanned_keys": len(details),
                  "key_details": details}},
    "file": "mixed.rdb",
    "generator": "testdata/rdb/capture.py",
    "rdb_header": header,
    "server": {k: info.get(k) for k in ["arch_bits", "mem_allocator", "os", "redis_mode", "redis_version"]}
    | {"mem_allocator": r.info("memory")["mem_allocator"]},
    "server_label": label,
}
with open(os.path.join(out, "mixed.truth.json"), "w") as f:
    json.dump(truth, f, indent=1, sort_keys=True)
    f.write("\n")
print(label, len(details), "keys", header)
