#!/usr/bin/env python3
"""Reads what `backdrop export` wrote back with TensorBoard's and MLflow's own readers and prints
it as JSON, so a test can compare it with the results database.

    read_export.py tensorboard LOGDIR
        {"runs": {RUN: {"scalars": {TAG: [[step, value, wall_time], ...]},
                        "texts": {TAG: MARKDOWN}, "hparams": {NAME: VALUE}, "hparams_group": NAME}}}
        RUN is the run folder relative to LOGDIR, as TensorBoard discovers it
        (io_wrapper.GetLogdirSubdirectories); each is read with EventAccumulator.

    read_export.py mlflow MLRUNS EXPERIMENT_ID
        {"experiment": {"id", "name", "tags"}, "runs": [{"run_id", "run_name", "status",
         "start_time", "end_time", "params", "tags", "metrics": {KEY: [[step, value, timestamp], ...]}}]}
        read with mlflow.tracking.MlflowClient(tracking_uri="file://MLRUNS").

Non-finite numbers print as the strings "NaN", "Infinity" and "-Infinity".

Needs: pip install tensorboard mlflow-skinny
"""
import json
import math
import os
import sys
from pathlib import Path


def read_tensorboard(logdir):
    from tensorboard.backend.event_processing import event_accumulator, io_wrapper
    from tensorboard.plugins.hparams import plugin_data_pb2

    keep_all = {event_accumulator.SCALARS: 0, event_accumulator.TENSORS: 0}
    runs = {}
    for folder in sorted(io_wrapper.GetLogdirSubdirectories(logdir)):
        accumulator = event_accumulator.EventAccumulator(folder, size_guidance=keep_all)
        accumulator.Reload()
        tags = accumulator.Tags()
        scalars = {
            tag: [[e.step, e.value, e.wall_time] for e in accumulator.Scalars(tag)]
            for tag in tags["scalars"]
        }
        texts = {}
        for tag in accumulator.PluginTagToContent("text"):
            tensor = accumulator.Tensors(tag)[0].tensor_proto
            texts[tag] = tensor.string_val[0].decode("utf-8")
        hparams, group = {}, None
        for content in accumulator.PluginTagToContent("hparams").values():
            start = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info
            group = start.group_name
            for name, value in start.hparams.items():
                hparams[name] = getattr(value, value.WhichOneof("kind"))
        runs[os.path.relpath(folder, logdir)] = {
            "scalars": scalars, "texts": texts, "hparams": hparams, "hparams_group": group,
        }
    return {"runs": runs}


def read_mlflow(mlruns, experiment_id):
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"   # MLflow 3 reads a file store only when asked
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=Path(mlruns).resolve().as_uri())
    experiment = client.get_experiment(experiment_id)
    runs = []
    for run in client.search_runs([experiment_id], max_results=1000, order_by=["attributes.run_name ASC"]):
        metrics = {
            key: [[m.step, m.value, m.timestamp] for m in client.get_metric_history(run.info.run_id, key)]
            for key in run.data.metrics
        }
        runs.append({
            "run_id": run.info.run_id, "run_name": run.info.run_name, "status": run.info.status,
            "start_time": run.info.start_time, "end_time": run.info.end_time,
            "params": run.data.params, "tags": run.data.tags, "metrics": metrics,
        })
    return {
        "experiment": {"id": experiment.experiment_id, "name": experiment.name, "tags": experiment.tags},
        "runs": runs,
    }


def finite(value):
    """`value` with NaN and infinities spelled "NaN", "Infinity", "-Infinity" (strict JSON has none)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    return value


def main(argv):
    if len(argv) == 3 and argv[1] == "tensorboard":
        result = read_tensorboard(argv[2])
    elif len(argv) == 4 and argv[1] == "mlflow":
        result = read_mlflow(argv[2], argv[3])
    else:
        sys.exit(__doc__)
    json.dump(finite(result), sys.stdout, allow_nan=False)


if __name__ == "__main__":
    main(sys.argv)
