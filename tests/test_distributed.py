"""train() on a real distribution engine, and its opt-in mixed-precision / XLA switches.

A strategy over several devices needs them configured before TensorFlow initialises,
so each distributed run is a fresh Python process (``_WORKER`` below): it cannot clash
with the TensorFlow already started by other tests in this pytest process.

What "matches" means: the single-device and the distributed run start from the *same*
initial weights (set explicitly, not re-drawn), see the same batches in the same order
(same shuffle seed; train() keeps Keras from consuming a shuffle order under a
strategy), and take four plain SGD steps on a model without dropout. The distributed
run splits each global batch of 8 across two replicas and all-reduces the gradients,
so its loss curve and final weights must equal the single-device ones up to float32
round-off (sums taken in another order): tolerance 1e-4 relative, 1e-5 absolute.
"""


from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent

_WORKER = textwrap.dedent('''
    import json, os, sys
    mode = sys.argv[1]
    import tensorflow as tf
    if mode == "mirrored":  # two logical CPUs: must happen before TensorFlow initialises its devices
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    else:  # one process per worker, the cluster described by TF_CONFIG
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    tf.config.experimental.enable_op_determinism()
    import keras
    import numpy as np
    from keras import layers
    from helpers.layers import FoldedTimeDistributed
    from helpers.models import clip_input
    from helpers.training import train

    rng = np.random.default_rng(0)
    labels = np.arange(16) % 2
    clips = np.clip(np.where(labels[:, None, None, None, None] == 1, 170, 80)
                    + rng.integers(-60, 60, (16, 4, 16, 16, 3)), 0, 255).astype(np.uint8)

    def build():  # no dropout: replicas would draw different masks
        inputs, x = clip_input(num_classes=2, num_frames=4, image_size=16)
        x = FoldedTimeDistributed(layers.Conv2D(4, 3, activation="relu"))(x)
        x = FoldedTimeDistributed(layers.GlobalAveragePooling2D())(x)
        x = layers.LSTM(4)(x)
        return keras.Model(inputs, layers.Dense(2, activation="softmax")(x), name="tiny")

    keras.utils.set_random_seed(1)
    initial = build().get_weights()

    def builder():
        model = build()
        model.set_weights(initial)  # identical starting point in every run
        return model

    def run(strategy):
        history = train(builder, (clips, labels), epochs=2, batch_size=8, strategy=strategy, seed=3,
                        validation_data=(clips[::2], labels[::2]),  # early stopping watches val_loss
                        optimizer=lambda: keras.optimizers.SGD(learning_rate=0.5), verbose=0)
        return {"loss": history.history["loss"], "val_loss": history.history["val_loss"],
                "weights": [w.ravel().tolist() for w in history.model.get_weights()]}

    distributed = run(strategy)
    if mode == "mirrored" or json.loads(os.environ["TF_CONFIG"])["task"]["index"] == 0:  # one reference run
        print("RESULT " + json.dumps({"replicas": strategy.num_replicas_in_sync, "distributed": distributed,
                                      "initial": [w.ravel().tolist() for w in initial], "single": run(None)}))
''')


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="-1", TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT),
               no_proxy="127.0.0.1,localhost", NO_PROXY="127.0.0.1,localhost")
    env.pop("HAR_QUICK", None)
    env.update(extra)
    return env


def _result(stdout: str) -> dict:
    lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"no result printed:\n{stdout[-2000:]}"
    return json.loads(lines[-1][len("RESULT "):])


def _assert_same_training(result: dict, *, replicas: int) -> None:
    assert result["replicas"] == replicas
    single, distributed = result["single"], result["distributed"]
    np.testing.assert_allclose(distributed["loss"], single["loss"], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(distributed["val_loss"], single["val_loss"], rtol=1e-4, atol=1e-6)
    for w_dist, w_single in zip(distributed["weights"], single["weights"], strict=True):
        np.testing.assert_allclose(w_dist, w_single, rtol=1e-4, atol=1e-5)
    moved = max(np.abs(np.subtract(w, w0)).max() for w, w0 in zip(single["weights"], result["initial"], strict=True))
    assert moved > 1e-3, "training did not change the weights: the comparison would be vacuous"


def test_mirrored_strategy_on_two_logical_cpus_matches_one_device():
    proc = subprocess.run([sys.executable, "-c", _WORKER, "mirrored"], cwd=ROOT, env=_env(), capture_output=True,
                          text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    _assert_same_training(_result(proc.stdout), replicas=2)


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@pytest.mark.slow  # two TensorFlow processes: about 30 s of CPU
def test_multi_worker_mirrored_strategy_with_tf_config_matches_one_device():
    """Two worker processes on 127.0.0.1, exactly as on two machines (docs/datasets.md)."""
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    procs = []
    for index in range(2):
        tf_config = json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})
        procs.append(subprocess.Popen([sys.executable, "-c", _WORKER, "multiworker"], cwd=ROOT,
                                      env=_env(TF_CONFIG=tf_config), stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    try:
        outputs = [proc.communicate(timeout=180) for proc in procs]
    finally:
        for proc in procs:
            proc.kill()
    for proc, (_, stderr) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, stderr[-3000:]
    _assert_same_training(_result(outputs[0][0]), replicas=2)


# --- the opt-in switches (in this process: train() restores the global dtype policy) ----------


def _tiny_builder():
    import keras
    from keras import layers

    from helpers.layers import FoldedTimeDistributed
    from helpers.models import clip_input

    inputs, x = clip_input(num_classes=2, num_frames=4, image_size=16)
    x = FoldedTimeDistributed(layers.Conv2D(4, 3, activation="relu"))(x)
    x = layers.GlobalAveragePooling3D()(x)
    return keras.Model(inputs, layers.Dense(2, activation="softmax", name="classifier")(x), name="tiny")


def test_mixed_precision_and_xla_are_opt_in():
    import keras

    from helpers.training import train

    rng = np.random.default_rng(0)
    data = rng.integers(0, 256, (8, 4, 16, 16, 3), dtype=np.uint8), np.arange(8) % 2
    history = train(_tiny_builder, data, epochs=1, batch_size=4, verbose=0)
    assert history.model.dtype_policy.name == "float32" and history.model.jit_compile is False

    # bfloat16 rather than float16 so that a CPU runs it; on a GPU mixed_precision=True means "mixed_float16"
    history = train(_tiny_builder, data, epochs=2, batch_size=4, verbose=0, mixed_precision="mixed_bfloat16",
                    jit_compile=True)
    model = history.model
    assert model.dtype_policy.name == "mixed_bfloat16" and model.jit_compile is True
    classifier = model.get_layer("classifier")
    assert (classifier.compute_dtype, classifier.variable_dtype) == ("bfloat16", "float32")
    assert np.isfinite(history.history["loss"]).all()
    assert keras.config.dtype_policy().name == "float32"  # the global policy is restored

    with pytest.raises(ValueError, match="needs a builder"):
        train(_tiny_builder(), data, epochs=1, batch_size=4, verbose=0, mixed_precision=True)
