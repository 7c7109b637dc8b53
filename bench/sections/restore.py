"""Restore section (real Kafka): a processor taking over every partition of
an output topic that already holds records."""
import signal
import time

from .common import BenchError, Counter, errtext, fill, group_id, log, median_of, start, wait4, \
    watermarks

def restore_run(env, per_partition, workdir):
    """A processor taking over every partition whose output already holds
    per_partition records each (keys spread by the producer's partitioner):
    the time from its assignment to its first output, and its own restore
    time (its -v line), CPU and peak RSS."""
    bin_ = env.bin_
    parts = env.partitions
    with env.session() as b:
        total = per_partition * parts
        fill(env, b, ["-t", env.topics["out"], "--generate", str(total), "--seed", "5"])
        new = 10 * parts
        fill(env, b, ["--generate", str(new), "--seed", "6"])
        counter = Counter(b, env.topics["out"])
        base = counter.count()
        proc = start([bin_["consumer"], "process", "-b", b, "-v", "-G", group_id("restore")] +
                     env.conf)
        logged = first = None
        restore_ms = keys = None
        deadline = time.monotonic() + 300
        try:
            while time.monotonic() < deadline:
                now = time.time()
                if logged is None:
                    proc.errfile.seek(0)
                    for line in proc.errfile.read().decode(errors="replace").split("\n"):
                        if "; restored " in line and " ms" in line:
                            # "assigned 12 partitions; restored K keys from R records in X ms"
                            words = line.split()
                            restore_ms = int(words[-2])
                            keys = int(words[words.index("restored") + 1])
                            logged = now
                            break
                got = counter.count()
                if got > base and first is None:
                    first = now
                if got >= base + new:
                    break
                if proc.poll() is not None:
                    raise BenchError("processor exited during the restore run: %s" % errtext(proc))
                time.sleep(0.02)
            else:
                raise BenchError("restore run: %d of %d outputs within 300 s" %
                                 (counter.count() - base, new))
        finally:
            counter.close()
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        cpu, rss = wait4(proc)
        if logged is None or first is None:
            raise BenchError("restore run: no restore line from the processor: %s" % errtext(proc))
        extra = watermarks(b, env.topics["out"]) - base
        if extra != new:
            raise BenchError("restore run: %d new outputs, expected %d" % (extra, new))
        assigned = logged - restore_ms / 1000.0
        return {"partitions": parts, "output_records": base, "restored_keys": keys,
                "restore_ms": restore_ms,
                "assignment_to_first_output_s": round(max(first - assigned, restore_ms / 1000.0), 3),
                "cpu_s": round(cpu, 2), "peak_rss_mb": round(rss, 1)}



def section(env, res, quick, runs, workdir):
    per_partition = 10000 if quick else 100000
    log("restore on Kafka: %d partitions x %d output records" % (env.partitions,
                                                                 per_partition))
    res["restore"] = median_of([restore_run(env, per_partition, workdir)
                                for _ in range(1 if quick else runs)])
