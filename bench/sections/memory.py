"""Memory section (full mode): peak RSS of the producer, then of the
processor, over 1M events."""
from .common import log
from .processing import stage_run
from .producer import producer_run

BIG = 1000000


def section(env, res, workdir):
    if env.kafka:
        log("peak RSS over %d events on %d partitions: producer, then processor" %
            (BIG, env.partitions))
        res["rss_1m"] = {
            "orderflow-producer": producer_run(env, "orderflow-producer", BIG, None),
            "orderflow-consumer process": stage_run(env, "orderflow-consumer process (at_least_once)",
                                                    BIG, 600, workdir)}
        return
    log("peak RSS over %d events: producer, then processor" % BIG)
    res["rss_1m"] = {
        "orderflow-producer": producer_run(env, "orderflow-producer", BIG, None, 240),
        "orderflow-consumer process": stage_run(env, "orderflow-consumer process", BIG, 600,
                                                workdir, 240)}
