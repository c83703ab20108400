"""A stdlib-only stand-in for NNI's trial SDK (``import nni``), so NNI Python trials run unmodified
under ``spikeline hpo`` (docs/hpo.md, "Trial protocol"): put this folder on PYTHONPATH.

It speaks NNI's legacy file channel: parameters from ``$NNI_SYS_DIR/parameter.cfg``, metrics
appended to ``$NNI_SYS_DIR/.nni/metrics`` as ``ME`` + 6-digit byte length + JSON record + newline.
Outside an experiment (``NNI_PLATFORM`` unset) it is standalone like NNI's SDK: parameters ``{}``,
reports only printed.
"""
import json
import os
import sys
import time

__all__ = ["get_next_parameter", "report_intermediate_result", "report_final_result",
           "get_experiment_id", "get_trial_id", "get_sequence_id"]

_state = {"parameter_id": None, "sequence": 0}


def _standalone():
    return not os.environ.get("NNI_PLATFORM")


def _sys_dir():
    return os.environ["NNI_SYS_DIR"]


def get_experiment_id():
    return "STANDALONE" if _standalone() else os.environ.get("NNI_EXP_ID", "")


def get_trial_id():
    return "STANDALONE" if _standalone() else os.environ.get("NNI_TRIAL_JOB_ID", "")


def get_sequence_id():
    return 0 if _standalone() else int(os.environ.get("NNI_TRIAL_SEQ_ID", "0"))


def get_next_parameter():
    """The trial's parameters (a dict); ``{}`` outside an experiment."""
    if _standalone():
        return {}
    path = os.path.join(_sys_dir(), "parameter.cfg")
    deadline = time.time() + 60
    text = ""
    while True:  # NNI's SDK polls the file until it is non-empty
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                text = f.read()
        if text or time.time() > deadline:
            break
        time.sleep(0.05)
    if not text:
        raise RuntimeError(path + ": no parameters")
    record = json.loads(text)
    _state["parameter_id"] = record.get("parameter_id")
    return record["parameters"]


def _check(metric):
    ok = isinstance(metric, (int, float)) and not isinstance(metric, bool)
    if isinstance(metric, dict):
        d = metric.get("default")
        ok = isinstance(d, (int, float)) and not isinstance(d, bool)
    if not ok:
        raise ValueError("a metric must be a number or a dict with a numeric 'default': %r" % (metric,))


def _report(kind, metric, sequence):
    _check(metric)
    value = json.dumps(metric)
    if _standalone():
        print("[nni standalone] %s result: %s" % ("final" if kind == "FINAL" else "intermediate", value),
              file=sys.stderr)
        return
    if _state["parameter_id"] is None:  # reporting before get_next_parameter(): read the id anyway
        try:
            with open(os.path.join(_sys_dir(), "parameter.cfg"), encoding="utf-8") as f:
                _state["parameter_id"] = json.loads(f.read()).get("parameter_id")
        except (OSError, ValueError):
            pass
    record = json.dumps({"parameter_id": _state["parameter_id"], "trial_job_id": get_trial_id(),
                         "type": kind, "sequence": sequence, "value": value})
    data = record.encode("utf-8")
    frame = b"ME%06d" % len(data) + data + b"\n"
    directory = os.path.join(_sys_dir(), ".nni")
    os.makedirs(directory, exist_ok=True)
    fd = os.open(os.path.join(directory, "metrics"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, frame)  # one write on an O_APPEND file: frames never interleave
    finally:
        os.close(fd)


def report_intermediate_result(metric):
    _report("PERIODICAL", metric, _state["sequence"])
    _state["sequence"] += 1


def report_final_result(metric):
    _report("FINAL", metric, 0)
