#!/usr/bin/env python3
"""PyTorch's own convolution (oneDNN on a CPU, cuDNN on an NVIDIA GPU) timed on the
problems clconv-bench times, as a peer in the same run.  clconv-bench runs this script
as a separate process (--peer=torch): the library and the bench never depend on PyTorch.

usage: torch_peer.py [--device cpu|cuda] [--threads T] [--reps R] [--warmup W]
                     [--passes fwd,bwd_d,bwd_w] [--dry-run] DESCRIPTOR...
DESCRIPTOR: benchdnn's conv syntax, as clconv-bench prints it (mb2ic64ih56oc64oh56kh3ph1;
missing w values copy h, dilation 0-based, a name n"..." ignored).
Output: '#' lines (what ran, errors), then CSV "index,pass,median_ms,min_ms": per
problem (its index among the arguments) and pass, the median and the best of R timed
runs after W warm-up runs, as clconv-bench times its own rows.  --dry-run prints each
problem's conv2d arguments instead (no PyTorch needed).
Exit status: 0; 2 usage; 3 PyTorch cannot be imported (or has no such device)."""
import argparse, os, re, sys, time

NO_TORCH = 3
PASSES = ("fwd", "bwd_d", "bwd_w")


def parse(desc):
    """The descriptor's fields; missing ones as benchdnn has them."""
    body = re.sub(r'_?n(".*"|[^"_]*)$', "", desc.strip())  # the name, if any
    d = {"mb": 2, "g": 1}
    d.update((k, int(v)) for k, v in re.findall(r"(mb|ic|ih|iw|oc|oh|ow|kh|kw|sh|sw|ph|pw|dh|dw|g)(\d+)", body))
    one_d = "ih" not in d and "iw" in d  # only w values: a 1-D problem
    for h, w, unit in (("ih", "iw", 1), ("kh", "kw", 1), ("sh", "sw", 1), ("ph", "pw", 0), ("dh", "dw", 0)):
        if one_d or h in ("sh", "ph", "dh"):
            d.setdefault(h, unit)
        d.setdefault(w, d.get(h))
    missing = [k for k in ("ic", "oc", "ih", "iw", "kh", "kw") if d.get(k) is None]
    if missing:
        raise ValueError(f"descriptor {desc!r}: missing {', '.join(missing)}")
    return d


def conv_args(d):
    """torch.nn.functional.conv2d's arguments: x shape, w shape, stride, padding, dilation, groups."""
    g = d["g"]
    return ((d["mb"], d["ic"], d["ih"], d["iw"]), (d["oc"], d["ic"] // g, d["kh"], d["kw"]),
            (d["sh"], d["sw"]), (d["ph"], d["pw"]), (d["dh"] + 1, d["dw"] + 1), g)


def median_min(run, reps, warmup, sync):
    for _ in range(warmup):
        run()
    sync()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        run()
        sync()
        ts.append((time.perf_counter() - t) * 1e3)
    ts.sort()
    n = len(ts)
    return (ts[n // 2] if n % 2 else 0.5 * (ts[n // 2 - 1] + ts[n // 2])), ts[0]


def time_problem(torch, index, args, a, passes):
    xs, ws, st, pd, dl, g = args
    dev = a.device
    x = torch.randn(*xs, device=dev)
    w = torch.randn(*ws, device=dev)
    y = torch.nn.functional.conv2d(x, w, stride=st, padding=pd, dilation=dl, groups=g)
    dy = torch.randn_like(y)
    cb = torch.ops.aten.convolution_backward
    runs = {
        "fwd": lambda: torch.nn.functional.conv2d(x, w, stride=st, padding=pd, dilation=dl, groups=g),
        "bwd_d": lambda: cb(dy, x, w, None, st, pd, dl, False, [0, 0], g, [True, False, False]),
        "bwd_w": lambda: cb(dy, x, w, None, st, pd, dl, False, [0, 0], g, [False, True, False]),
    }
    sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)
    for p in passes:
        try:
            med, best = median_min(runs[p], a.reps, a.warmup, sync)
            print(f"{index},{p},{med:.6f},{best:.6f}", flush=True)
        except Exception as e:  # one pass failing leaves the others
            print(f"# error: problem {index} {p}: {type(e).__name__}: {e}".replace("\n", " "), flush=True)


def setup(a):
    try:
        import torch
    except Exception as e:
        print(f"# no torch: {sys.executable} cannot import torch ({type(e).__name__}: {e})", flush=True)
        sys.exit(NO_TORCH)
    if a.device == "cuda" and not torch.cuda.is_available():
        print(f"# no torch: PyTorch {torch.__version__} under {sys.executable} sees no CUDA device", flush=True)
        sys.exit(NO_TORCH)
    torch.set_num_threads(a.threads or os.cpu_count())
    if a.device == "cuda":
        torch.backends.cudnn.benchmark = True  # cuDNN's own find, done in the warm-up
        torch.backends.cudnn.allow_tf32 = False  # fp32, as clconv computes
        torch.backends.cuda.matmul.allow_tf32 = False
        where, lib = torch.cuda.get_device_name(), f"cuDNN {torch.backends.cudnn.version()}"
    else:
        where, lib = "CPU", "oneDNN" if torch.backends.mkldnn.is_available() else "native"
    print(f"# peer: PyTorch {torch.__version__} {where} ({lib}), {torch.get_num_threads()} threads, "
          f"{sys.executable}", flush=True)
    return torch


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--threads", type=int, help="CPU threads (default: every core)")
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--passes", default=",".join(PASSES))
    ap.add_argument("--dry-run", action="store_true")
    ap.add_argument("problems", nargs="+")
    a = ap.parse_args()
    passes = [p for p in a.passes.split(",") if p]
    if any(p not in PASSES for p in passes) or a.reps < 1 or a.warmup < 0:
        ap.error(f"--passes from {','.join(PASSES)}, --reps >= 1, --warmup >= 0")
    try:
        problems = [conv_args(parse(p)) for p in a.problems]
    except ValueError as e:
        ap.error(str(e))
    if a.dry_run:
        for i, args in enumerate(problems):
            print(i, *args)
        return
    torch = setup(a)
    print("index,pass,median_ms,min_ms", flush=True)
    for i, args in enumerate(problems):
        try:
            time_problem(torch, i, args, a, passes)
        except Exception as e:  # a problem PyTorch cannot hold leaves the others
            print(f"# error: problem {i}: {type(e).__name__}: {e}".replace("\n", " "), flush=True)


if __name__ == "__main__":
    main()
