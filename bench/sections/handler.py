"""Handler section: the built-in rules vs examples/handlers/rules_plugin.so
(the same rules as a plugin), runs interleaved: the plugin path's CPU/event
overhead."""
from .common import log, median_of
from .processing import HANDLER_PEER, stage_run


def handler_section(env, runs, n, workdir):
    """The built-in rules and the rules_plugin.so plugin, runs interleaved."""
    builtin, plugin = [], []
    for _ in range(runs):
        builtin.append(stage_run(env, "orderflow-consumer process", n, 300, workdir))
        plugin.append(stage_run(env, HANDLER_PEER, n, 300, workdir))
    b, p = median_of(builtin), median_of(plugin)
    return {"orderflow-consumer process (built-in rules)": b, HANDLER_PEER: p,
            "cpu_overhead": round(p["cpu_us_per_event"] / b["cpu_us_per_event"] - 1, 4)}


def section(env, res, runs, n, workdir):
    if env.kafka:
        log("handler: built-in rules vs rules_plugin.so on Kafka, %d runs of %d events each, "
            "interleaved" % (runs, n))
    else:
        log("handler: built-in rules vs rules_plugin.so, %d runs of %d events each, interleaved"
            % (runs, n))
    res["handler"] = handler_section(env, runs, n, workdir)
