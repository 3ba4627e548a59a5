#!/usr/bin/env python3
"""redsleuth over a fleet's dumps and log archives, on Apache Spark.

    spark-submit integrations/spark/redsleuth_fleet.py INPUT... --out REPORT.json
                 [--redsleuth PATH] [--fan-in N] [--partitions N]

Each INPUT is an RDB dump, a log file, or a directory (every dump and every
log set under it). Plain paths are local (seen by every executor: a shared
mount); a URI (hdfs://, s3a://, gs://, abfs://, and file:// for a path only
the driver's Hadoop configuration need reach) is listed through the
cluster's Hadoop file systems and shipped to the executors with binaryFiles,
which holds each file in memory (keep them under 2 GB, or mount them).
Reports name a file:// input by its path, any other URI as given.

One task per dump and one per node's log set (the rotated files of one log:
redis.log, redis.log.1, redis.log.2.gz ... are one set) runs the redsleuth
binary on an executor with --format json. The documents are reduced with
`redsleuth merge`, in groups of --fan-in per step, on the executors, then
once more on the driver. REPORT.json gets
{"rdb": merged keyspace report or null, "logs": merged log analysis or null,
 "shards": [one per task], "failed": [the shards left out, with errors]},
and REPORT.md (beside it) the same as Markdown. A dump or log set that is
corrupt or unreadable is listed with its errors and left out of the merge;
it does not fail the job.

The binary is found on PATH or given with --redsleuth; it is shipped to the
executors with the job (SparkContext.addFile), so they need not have it.
"""

import argparse
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

DUMP_RE = re.compile(r"\.rdb(\.(gz|lz4|zst|zstd))?$", re.IGNORECASE)
COMPRESSED = (".gz", ".lz4", ".zst", ".zstd")
# redsleuth's exit codes: 0 ok, 1 findings at or above --fail-on, 2 usage or
# I/O error, 3 input corrupt (partial results still printed).
EXIT_CORRUPT = 3


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="redsleuth_fleet.py",
        description="Run redsleuth over many dumps and log sets on Spark and merge the results.",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="RDB dumps, log files, or directories of them (local or Hadoop URIs)")
    p.add_argument("--out", required=True, metavar="REPORT.json",
                   help="where to write the merged report; the Markdown goes beside it (.md)")
    p.add_argument("--redsleuth", metavar="PATH",
                   help="the redsleuth binary (default: the one on PATH)")
    p.add_argument("--fan-in", type=int, default=64, metavar="N",
                   help="documents merged by one `redsleuth merge` (default 64)")
    p.add_argument("--partitions", type=int, default=0, metavar="N",
                   help="Spark partitions for the shard tasks (default: one per task)")
    a = p.parse_args(argv)
    if a.fan_in < 2:
        p.error("--fan-in must be at least 2")
    return a


def is_dump(name):
    return bool(DUMP_RE.search(name))


def looks_like_log(name):
    """Mirrors `looks_like_log` of src/logs/mod.rs: what `redsleuth logs DIR` reads."""
    n = name.lower()
    return not n.startswith(".") and (
        ".log" in n or n.endswith("log")
        or ("redis" in n and not n.endswith(".rdb") and not n.endswith(".conf"))
    )


def rotation_set(path):
    """The rotation set of a log file, as `rotation_key` of src/logs/mod.rs
    names it: redis.log.2.gz and redis.log-20240303 belong to dir/redis.log."""
    d, name = path.rsplit("/", 1) if "/" in path else ("", path)
    base = name
    for ext in COMPRESSED:
        if base.endswith(ext):
            base = base[: -len(ext)]
            break
    m = re.match(r"^(.*)\.(\d{1,4})$", base)
    if m:
        base = m.group(1)
    m = re.match(r"^(.*)-(\d{8})$", base)
    if m:
        base = m.group(1)
    return f"{d}/{base}" if d else base


def has_scheme(p):
    """A URI read through Hadoop (file: included), not a plain local path."""
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:/", p) is not None


def shown(p):
    """How reports name an input: a file: URI by its path, so that the
    same file read through Hadoop or off a mount is named alike; any
    other URI as Hadoop qualifies it."""
    return re.sub(r"^file:/+", "/", p)


def list_local(path):
    if os.path.isdir(path):
        out = []
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for f in sorted(files):
                out.append(os.path.join(root, f))
        return out, True
    if os.path.exists(path):
        return [path], False
    raise FileNotFoundError(f"{path}: No such file or directory")


def list_hadoop(sc, uri):
    jvm = sc._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(uri)
    fs = hpath.getFileSystem(sc._jsc.hadoopConfiguration())
    if not fs.exists(hpath):
        raise FileNotFoundError(f"{uri}: No such file or directory")
    status = fs.getFileStatus(hpath)
    if not status.isDirectory():
        # Qualified as binaryFiles names it (file:///a → file:/a).
        return [status.getPath().toString()], False
    it = fs.listFiles(hpath, True)
    out = []
    while it.hasNext():
        out.append(it.next().getPath().toString())
    return sorted(out), True


def plan(inputs, lister):
    """Tasks: one per dump, one per log set. A file named on the command
    line is taken as a dump or a log by its name; under a directory, files
    that are neither are skipped, as `redsleuth logs DIR` skips them."""
    dumps, sets = [], {}
    for inp in inputs:
        files, from_dir = lister(inp)
        for f in files:
            name = f.rsplit("/", 1)[-1]
            if is_dump(name):
                dumps.append(f)
            elif looks_like_log(name) or not from_dir:
                sets.setdefault(rotation_set(f), []).append(f)
    tasks = [{"kind": "rdb", "id": shown(d), "paths": [d], "names": [shown(d)]}
             for d in dict.fromkeys(dumps)]
    for key in sorted(sets):
        paths = list(dict.fromkeys(sets[key]))
        tasks.append({"kind": "logs", "id": shown(key), "paths": paths,
                      "names": [shown(p) for p in paths]})
    return tasks


def executable(binary):
    """The binary on this machine: a path, or the name of a file shipped
    with the job. SparkFiles may drop the executable bit: put it back on a
    private copy when it did."""
    if os.path.isabs(binary) and os.access(binary, os.X_OK):
        return binary
    try:
        from pyspark import SparkFiles
        path = SparkFiles.get(os.path.basename(binary))
    except Exception:
        path = binary
    if os.path.exists(path) and not os.access(path, os.X_OK):
        copy = os.path.join(tempfile.gettempdir(), f"redsleuth-{os.getpid()}")
        if not os.path.exists(copy):
            shutil.copyfile(path, copy)
            os.chmod(copy, os.stat(copy).st_mode | stat.S_IXUSR)
        path = copy
    return path


def run_shard(task, binary, local_paths=None):
    """Runs one task; returns its shard record. Never raises: whatever goes
    wrong is the shard's error."""
    paths = local_paths or task["paths"]
    cmd = [executable(binary), task["kind"], "--quiet", "--format", "json", *paths]
    rec = {"kind": task["kind"], "id": task["id"], "paths": task["names"],
           "shipped": local_paths is not None}
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=24 * 3600)
    except (OSError, subprocess.SubprocessError) as e:
        return {**rec, "status": "failed", "errors": [f"{task['id']}: {e}"], "doc": None}
    stderr = [l for l in p.stderr.decode("utf-8", "replace").splitlines() if l.strip()]
    doc = None
    try:
        doc = json.loads(p.stdout) if p.stdout.strip() else None
    except ValueError as e:
        stderr.append(f"{task['id']}: output is not JSON: {e}")
    if local_paths:
        # Name the shard's files as the user gave them, not by the copies.
        text = json.dumps(doc) if doc is not None else None
        for local, orig in zip(local_paths, task["names"]):
            stderr = [l.replace(local, orig) for l in stderr]
            if text is not None:
                text = text.replace(json.dumps(local)[1:-1], json.dumps(orig)[1:-1])
        doc = json.loads(text) if text is not None else None
    if p.returncode in (0, 1) and doc is not None:
        return {**rec, "status": "ok", "errors": [], "doc": doc}
    errors = []
    for e in (doc or {}).get("errors", []) or []:
        if isinstance(e, dict):
            msg = e.get("message", json.dumps(e))
            e = f"{e['file']}: {msg}" if e.get("file") else msg
        errors.append(e)
    errors.extend(l.removeprefix("redsleuth: ") for l in stderr)
    status = "corrupt" if p.returncode == EXIT_CORRUPT else "failed"
    if not errors:
        errors = [f"{task['id']}: redsleuth exited with status {p.returncode}"]
    return {**rec, "status": status, "errors": list(dict.fromkeys(errors)), "doc": None}


def run_remote_shard(task, blobs, binary):
    """A task whose files came as bytes (binaryFiles): written to a private
    directory under their own names, then run as a local one."""
    d = tempfile.mkdtemp(prefix="redsleuth-shard-")
    try:
        local = []
        for k, (path, data) in enumerate(sorted(blobs)):
            sub = os.path.join(d, str(k))
            os.mkdir(sub)
            lp = os.path.join(sub, path.rsplit("/", 1)[-1])
            with open(lp, "wb") as f:
                f.write(data)
            local.append((path, lp))
        order = {p: i for i, p in enumerate(task["paths"])}
        local.sort(key=lambda x: order.get(x[0], 0))
        return run_shard(task, binary, [lp for _, lp in local])
    finally:
        shutil.rmtree(d, ignore_errors=True)


def merge_docs(docs, binary, fmt="json"):
    """`redsleuth merge` of JSON documents; returns its output."""
    if fmt == "json" and len(docs) == 1:
        return docs[0]
    d = tempfile.mkdtemp(prefix="redsleuth-merge-")
    try:
        files = []
        for k, doc in enumerate(docs):
            f = os.path.join(d, f"shard-{k:06}.json")
            with open(f, "w") as fh:
                json.dump(doc, fh)
            files.append(f)
        p = subprocess.run([executable(binary), "merge", "--format", fmt, *files],
                           capture_output=True)
        if p.returncode not in (0, 1):
            raise RuntimeError("redsleuth merge: " + p.stderr.decode("utf-8", "replace").strip())
        out = p.stdout.decode("utf-8")
        return json.loads(out) if fmt == "json" else out
    finally:
        shutil.rmtree(d, ignore_errors=True)


def tree_merge(rdd, binary, fan_in, driver_binary):
    """Reduces an RDD of (kind, document) to one document per kind: groups
    of fan_in merged per step on the executors while more than fan_in are
    left, the last group on the driver."""
    out = {}
    for kind in ("rdb", "logs"):
        level = rdd.filter(lambda kd, k=kind: kd[0] == k).map(lambda kd: kd[1])
        n = level.count()
        while n > fan_in:
            groups = (n + fan_in - 1) // fan_in
            level = (level.zipWithIndex()
                     .map(lambda di: (di[1] // fan_in, di[0]))
                     .groupByKey(numPartitions=groups)
                     .map(lambda g: merge_docs(list(g[1]), binary)))
            level.cache()
            n = level.count()
        docs = level.collect()
        out[kind] = merge_docs(docs, driver_binary) if docs else None
    return out


def markdown(report, binary):
    lines = ["# Fleet report", ""]
    shards = report["shards"]
    ok = sum(1 for s in shards if s["status"] == "ok")
    lines.append(f"{len(shards)} shard(s): {ok} merged, {len(report['failed'])} left out.")
    lines.append("")
    if report["failed"]:
        lines += ["## Shards left out", "", "| shard | kind | status | errors |", "|---|---|---|---|"]
        for s in report["failed"]:
            errs = "; ".join(s["errors"]).replace("|", "\\|")
            lines.append(f"| `{s['id']}` | {s['kind']} | {s['status']} | {errs} |")
        lines.append("")
    text = "\n".join(lines) + "\n"
    for kind in ("rdb", "logs"):
        if report[kind] is not None:
            text += "\n" + merge_docs([report[kind]], binary, "markdown")
    return text


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    binary = args.redsleuth or shutil.which("redsleuth")
    if not binary or not os.path.exists(binary):
        sys.exit("redsleuth_fleet: no redsleuth binary: put it on PATH or pass --redsleuth PATH")
    binary = os.path.abspath(binary)

    from pyspark.sql import SparkSession
    spark = SparkSession.builder.appName("redsleuth-fleet").getOrCreate()
    sc = spark.sparkContext
    sc.addFile(binary)
    shipped = os.path.basename(binary)

    def lister(p):
        return list_hadoop(sc, p) if has_scheme(p) else list_local(p)

    try:
        tasks = plan(args.inputs, lister)
    except FileNotFoundError as e:
        sys.exit(f"redsleuth_fleet: {e}")
    if not tasks:
        sys.exit("redsleuth_fleet: the inputs hold no dump (*.rdb) and no log file")

    local = [t for t in tasks if not any(has_scheme(p) for p in t["paths"])]
    remote = [t for t in tasks if any(has_scheme(p) for p in t["paths"])]
    parts = args.partitions or max(1, len(local))
    results = sc.parallelize(local, parts).map(lambda t: run_shard(t, shipped))
    if remote:
        owner = {p: t["id"] for t in remote for p in t["paths"]}
        by_id = {t["id"]: t for t in remote}
        blobs = (sc.binaryFiles(",".join(owner))
                 .map(lambda pb: (owner.get(pb[0], pb[0]), (pb[0], pb[1])))
                 .groupByKey()
                 .map(lambda g: run_remote_shard(by_id[g[0]], list(g[1]), shipped)))
        results = results.union(blobs)
    results.cache()

    good = results.filter(lambda r: r["status"] == "ok").map(lambda r: (r["kind"], r["doc"]))
    try:
        merged = tree_merge(good, shipped, args.fan_in, binary)
    except RuntimeError as e:
        spark.stop()
        sys.exit(f"redsleuth_fleet: {e}")
    shards = [{k: v for k, v in r.items() if k != "doc"} for r in results.collect()]
    shards.sort(key=lambda s: (s["kind"], s["id"]))
    report = {
        "rdb": merged["rdb"],
        "logs": merged["logs"],
        "shards": shards,
        "failed": [s for s in shards if s["status"] != "ok"],
    }
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2, sort_keys=True)
        f.write("\n")
    md = os.path.splitext(args.out)[0] + ".md"
    with open(md, "w") as f:
        f.write(markdown(report, binary))
    spark.stop()
    print(f"redsleuth_fleet: {len(shards)} shard(s), {len(report['failed'])} left out; "
          f"wrote {args.out} and {md}", file=sys.stderr)


if __name__ == "__main__":
    main()
