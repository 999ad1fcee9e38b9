"""The examples, run as documented but short: a few epochs of the digits
training (clconv vs PyTorch), a 2-process DDP run of a few steps, and the
autoencoder (fused activations, ConvTranspose2d, channels_last, fp16/bf16)."""
import os
import re
import subprocess
import sys

import clconv

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")


def run_example(name, tmp_path, *args):
    env = dict(os.environ)
    # the child imports the same clconv as this process
    env["PYTHONPATH"] = os.pathsep.join(
        [os.path.dirname(os.path.dirname(clconv.__file__))] + env.get("PYTHONPATH", "").split(
            os.pathsep))
    return subprocess.run([sys.executable, os.path.join(EXAMPLES, name)] + list(args), env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)


def test_train_digits_agrees_with_pytorch(tmp_path):
    r = run_example("train_digits.py", tmp_path, "--epochs", "3", "--plot", "curves.png")
    assert r.returncode == 0, r.stdout + r.stderr
    accuracy = re.search(r"test accuracy: clconv ([\d.]+) %, torch ([\d.]+) %", r.stdout)
    assert accuracy and float(accuracy.group(1)) > 80, r.stdout  # it does learn
    assert "step/s" in r.stderr  # the progress bar
    with open(tmp_path / "curves.png", "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    print(r.stdout)


def test_train_digits_catches_a_gradient_error(tmp_path):
    """The check is not a formality: conv weight gradients 0.1 % off fail it."""
    r = run_example("train_digits.py", tmp_path, "--epochs", "2", "--plot", "",
                    "--perturb", "0.001", "--no-progress")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "FAILED" in r.stdout


def test_train_ddp_matches_one_process(tmp_path):
    r = run_example("train_ddp.py", tmp_path, "--world-size", "2", "--steps", "10")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ranks bit-identical: yes" in r.stdout and "result: equal" in r.stdout, r.stdout
    print(r.stdout)


def test_autoencoder_fused_transposed_channels_last(tmp_path):
    r = run_example("autoencoder_digits.py", tmp_path, "--epochs", "2", "--channels-last")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Conv2d(relu) Conv2d(relu) ConvTranspose2d Conv2d(relu) Conv2d(sigmoid)" in r.stdout
    assert "test mse clconv bf16" in r.stdout and "result: agree" in r.stdout, r.stdout
    print(r.stdout)


def test_autoencoder_catches_a_gradient_error(tmp_path):
    r = run_example("autoencoder_digits.py", tmp_path, "--epochs", "1", "--perturb", "0.001")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "result: FAILED" in r.stdout
