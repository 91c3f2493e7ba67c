"""Two torchrun "nodes" on loopback: c10d rendezvous at one endpoint, gloo, one process per node.

As a two-machine launch would run (docs/cluster.md), with 127.0.0.1 as the rendezvous host: the
two launchers meet, number their workers 0 and 1, rank 0 renders the synthetic pool once into
the shared cache, the other rank waits at the barrier and reads it, and DDP averages across both.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from training_testing import free_port, labelled_words
from word_images import DEJAVU

ROOT = Path(__file__).resolve().parents[2]
STEPS, BATCH, NODES = 4, 4, 2
TIMEOUT_S = 240


def launch(node_rank: int, port: int, options: dict[str, object], data: Path, log: Path) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nnodes", str(NODES), "--nproc_per_node", "1",
        "--node_rank", str(node_rank), "--rdzv_backend", "c10d", "--rdzv_endpoint", f"127.0.0.1:{port}",
        "--rdzv_id", "loopback", "-m", "training.train", "--data", str(data),
        *(arg for key, value in options.items() for arg in ("--set", f"{key}={value!r}")),
    ]
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": "1", "GLOO_SOCKET_IFNAME": "lo"}
    with log.open("w") as out:  # the child keeps its own descriptor
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def summary_of(log: Path) -> dict[str, object]:
    """The JSON summary ``training.train`` prints at the end of the rank's run."""
    lines = [line for line in log.read_text().splitlines() if line.startswith("{")]
    assert lines, log.read_text()[-3000:]
    return json.loads(lines[-1])


@pytest.mark.slow
@pytest.mark.skipif(not DEJAVU.is_file(), reason="needs the DejaVu fonts (make setup) for the synthetic pool")
def test_two_nodes_meet_at_a_c10d_endpoint_and_train_together(tmp_path: Path) -> None:
    data = labelled_words(tmp_path / "words")
    cache = tmp_path / "synth_pool"
    options = {
        "output": str(tmp_path / "run"), "synth_count": 32, "synth_cache": str(cache), "render_workers": 1,
        "steps": STEPS, "val_every": 2, "batch_size": BATCH, "warmup_steps": 1, "log_every": 1, "threads": 1,
        "device": "cpu", "seed": 0,
    }
    port = free_port()
    logs = [tmp_path / f"node{rank}.log" for rank in range(NODES)]
    launchers = [launch(rank, port, options, data, logs[rank]) for rank in range(NODES)]
    try:
        codes = [launcher.wait(TIMEOUT_S) for launcher in launchers]
    finally:
        for launcher in launchers:
            if launcher.poll() is None:
                os.killpg(launcher.pid, signal.SIGKILL)
    assert codes == [0, 0], [log.read_text()[-3000:] for log in logs]

    for log in logs:
        summary = summary_of(log)
        assert summary["steps"] == STEPS
        assert summary["samples_seen"] == STEPS * BATCH * NODES  # each step's batch came from both nodes
    # The pool was rendered once, under its key, and no half-written copy is left.
    assert (cache / "key.json").is_file() and not cache.with_name(cache.name + ".new").exists()
    run = tmp_path / "run"
    assert (run / "last.safetensors").is_file()
    assert json.loads((run / "last.json").read_text())["metadata"]["steps"] == STEPS
