#!/usr/bin/python3
"""Data-parallel training of the digits CNN (train_digits.py) on clconv with
PyTorch's own distributed engine: torch.distributed over Gloo and
DistributedDataParallel, --world-size processes on this machine (loopback
only), each with its own clconv context.

    make python && build/venv/bin/python examples/train_ddp.py [--steps 20]
    (or CLCONV_LIBRARY=build/libclconv.so PYTHONPATH=python /usr/bin/python3 ...)

Each process trains on its share of every global batch; DDP averages the
gradients.  Afterwards one process trains the same model on the same global
batches alone, and the weights must agree (see compare): clconv computes,
PyTorch moves the gradients, and the result is that of one big process.
Exits with status 1 when they do not.
"""
import argparse
import os
import sys
import tempfile
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel

import clconv.torch as clconv_torch
from train_digits import batch_order, load_data, make_model, sgd, train_step


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--world-size", type=int, default=2)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--batch", type=int, default=64, help="global batch (split between ranks)")
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rtol", type=float, default=1e-5,
                   help="largest relative (norm-wise) weight difference, per tensor")
    args = p.parse_args(argv)
    if args.batch % args.world_size:
        p.error("--batch must be a multiple of --world-size")
    return args


def global_batches(args):
    data = load_data(args.seed)
    return data[:2], batch_order(len(data[0]), args.batch, args.steps, args.seed)


def worker(rank, args, tmp):
    """One DDP process: its own clconv context (created on first use here)."""
    torch.set_num_threads(1)
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")  # loopback only
    dist.init_process_group("gloo", init_method="file://" + os.path.join(tmp, "rendezvous"),
                            rank=rank, world_size=args.world_size)
    try:
        (x, y), batches = global_batches(args)
        model = DistributedDataParallel(clconv_torch.convert(make_model(args.seed)))
        opt = sgd(model, args.lr)
        for idx in batches:
            mine = idx.chunk(args.world_size)[rank]  # equal shares: the mean of means is the mean
            train_step(model, opt, x[mine], y[mine])
        torch.save(model.module.state_dict(), os.path.join(tmp, "rank%d.pt" % rank))
    finally:
        dist.destroy_process_group()


def single_process(args):
    (x, y), batches = global_batches(args)
    model = clconv_torch.convert(make_model(args.seed))
    opt = sgd(model, args.lr)
    for idx in batches:
        train_step(model, opt, x[idx], y[idx])
    return model.state_dict()


def rel_diff(a, b):
    return ((a.double() - b.double()).norm() / b.double().norm().clamp_min(1e-30)).item()


def compare(ranks, single, rtol):
    """(ranks bit-identical to each other, largest relative difference from
    the single process).  DDP hands every rank the same averaged gradient,
    so the ranks must match exactly; the single process sums the batch in
    another order (two halves, then their mean), so it matches to fp32
    rounding, grown a little by the steps: rtol 1e-5."""
    same = all(torch.equal(r[k], ranks[0][k]) for r in ranks[1:] for k in single)
    worst = max(rel_diff(ranks[0][k], single[k]) for k in single)
    return same, worst, same and worst <= rtol


def main(argv=None):
    args = parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        mp.spawn(worker, args=(args, tmp), nprocs=args.world_size, join=True)
        t_ddp = time.perf_counter() - t0
        ranks = [torch.load(os.path.join(tmp, "rank%d.pt" % r)) for r in range(args.world_size)]
    t0 = time.perf_counter()
    single = single_process(args)
    t_one = time.perf_counter() - t0
    same, worst, ok = compare(ranks, single, args.rtol)
    print("DDP: %d processes (gloo, loopback), %d steps of a global batch of %d"
          % (args.world_size, args.steps, args.batch))
    print("ranks bit-identical: %s" % ("yes" if same else "NO"))
    print("weights vs one process on the same global batches: largest relative difference "
          "%.2e (limit %.0e)" % (worst, args.rtol))
    print("time: DDP %.1f s (with process start-up), one process %.1f s" % (t_ddp, t_one))
    print("result: %s" % ("equal" if ok else "FAILED: the weights differ"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
