"""Writes key-naming.rdb: key names in the shapes real applications use
(framework prefixes, random tails, hash tags, names in key positions), to
check that pattern inference reads them as a person would. Each family is
written with the pattern a person would give it; key-naming.expected.json
gets those patterns with their distinct key counts.

    redis-server --port 18931 --bind 127.0.0.1 --save "" --dir DIR &
    python make.py 18931      # then: cp DIR/dump.rdb key-naming.rdb

Needs the `redis` client (pip install redis). Deterministic (fixed seed).
"""
import collections
import hashlib
import json
import os
import random
import string
import sys
import uuid

import redis

N = 400
rng = random.Random(5)
r = redis.Redis(port=int(sys.argv[1]))
r.flushall()
p = r.pipeline(transaction=False)
families = collections.defaultdict(set)


class Family:
    """`fam("pattern").set(key, ...)` records the key under its pattern."""

    def __init__(self, pattern):
        self.pattern = pattern

    def __getattr__(self, cmd):
        def call(key, *args, **kw):
            families[self.pattern].add(key)
            return getattr(p, cmd)(key, *args, **kw)
        return call


fam = Family


def rand62(n):
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


def uid():
    return str(uuid.UUID(int=rng.getrandbits(128)))


def sha1(i):
    return hashlib.sha1(str(i).encode()).hexdigest()


first = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"]
for i in range(N):
    fam("sess_*").set("sess_" + rand62(24), "x" * 50, ex=3600)
    fam("cache.v2.product.*").set("cache.v2.product.%d" % rng.randint(1, 10**6), "y" * 80)
    fam("cart/*/items").rpush("cart/%s/items" % uid(), "a", "b")
    fam("tenant{*}:orders:*").hset("tenant{%s%d}:orders:%d" % (rng.choice(first), rng.randint(0, 30), i), "a", 1)
    fam("lock-*").set("lock-" + sha1(i), 1, ex=30)
    fam("celery-task-meta-*").set("celery-task-meta-" + uid(), "r" * 40, ex=86400)
    fam("spring:session:sessions:*").set("spring:session:sessions:" + uid(), "s")
    fam("spring:session:sessions:expires:*").set("spring:session:sessions:expires:" + uid(), "")
    fam(":*:views.decorators.cache.cache_page.*").set(":1:views.decorators.cache.cache_page." + hashlib.md5(str(i).encode()).hexdigest(), "z" * 30)
    fam("laravel_database_laravel_cache:*").set("laravel_database_laravel_cache:" + sha1(i + 10**6), "w")
    fam("user:*:settings").sadd("user:%s%d:settings" % (rng.choice(first), i), "dark")
    fam("rl:*:*").set("rl:10.%d.%d.%d:%d" % (rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255),
                                 28000000 + rng.randint(0, 60)), 3, ex=60)
    fam("article:*:comments:*").set("article:%d:comments:%d" % (rng.randint(1, 500), i), "c")
    fam("bull:email:*").set("bull:email:%d" % i, "j")
    fam("order:*:*").set("order:2024-06-%02d:%d" % (rng.randint(1, 30), i), "o")
    fam("{*}.inbox").set("{u%d}.inbox" % rng.randint(1000, 10**6), "m")
    fam("*:cart").set("%s%s:cart" % (rng.choice(["ka", "mi", "to", "re", "su", "no"]),
                         "".join(rng.choice("aeiou") + rng.choice("klmnrst") for _ in range(3))), "c")
    fam("cache:views/products/*/*").set("cache:views/products/%d-20240611%06d/%s" % (i, rng.randint(0, 235959), sha1(i)[:12]), "html")
    if i % 200 == 199:
        p.execute()
for c in ["DE", "US", "FR", "JP", "BR", "IN", "CN", "GB", "IT", "ES",
          "NL", "SE", "NO", "PL", "MX", "CA", "AU", "KR", "RU", "TR"]:
    fam("geo:*").set("geo:" + c, "1")
for q in ["default", "mailers", "critical", "low"]:
    fam("queue:" + q).rpush("queue:" + q, "job")
for s in ["processed", "failed"]:
    fam("stat:" + s).set("stat:" + s, 10)
fam("bull:email:wait").set("bull:email:wait", "1")
fam("bull:email:active").set("bull:email:active", "1")
fam("feature_flags").set("feature_flags", "{}")
p.execute()
r.save()
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "key-naming.expected.json"), "w") as f:
    json.dump({k: len(v) for k, v in sorted(families.items())}, f, indent=1)
    f.write("\n")
