#!/usr/bin/env python3
"""ptx_check.py - the GPU check that runs without a GPU (`make ptx-check`).

What it does:
  1. Asks the library which kernel builds an NVIDIA GPU would get: runs
     clconv-bench (on whatever OpenCL device this machine has) over the six
     anchor layers at mb1 plus a depthwise and a strided 1x1 layer, every
     pass, GEMM and TILED, once per GPU tuning row (CLCONV_TUNING=nvidia,
     then generic), with CLCONV_LOG=2 and the binary cache off, and keeps
     every "built kernels/F.cl with OPTIONS" line: the exact (file,
     options) pairs of those rows.  Kernel files that no run built (the
     DIRECT and EXPLICIT families, which have no tuning rows) are added with
     no options.  The TF32 variant (row "nvidia+tf32": TILED's inline-PTX
     mma.sync path, what an sm_80+ device gets in TF32 math mode) comes
     from one more run of TILED with CLCONV_MATH=tf32 and the portable
     emulation on (CLCONV_TF32_EMULATE=1, as this machine has no tensor
     cores): its -DTF32 builds, less -DTF32_EMULATE, are exactly the
     NVIDIA device's.
  2. Compiles each pair with clang's nvptx64-unknown-nvidiacl target and
     Debian's libclc into PTX, and assembles the PTX with ptxas for sm_80
     and sm_90 (-v: registers, stack frame, spills, shared memory per
     kernel).
  3. Disassembles the cubin with cuobjdump -sass and counts FFMA, HMMA
     (tensor-core mma), global loads (LDG) and shared loads (LDS) per
     kernel, in the whole kernel and in its main loop (the backward branch
     whose body holds the most FMA work).  Without cuobjdump it counts
     fma.rn.f32, mma.sync, ld.global and ld.shared in the PTX instead, and
     says so.  An m16n8k8 mma is 16*8*8 multiply-adds over a warp's 32
     lanes: it counts as 32 FMA per lane in the main loop's FMA:load ratio.
  4. Prints one line per kernel, row and architecture, and fails (exit 1)
     when a tiled kernel (kernels/tiled_*.cl) has a stack frame or spills,
     leaves fewer than 2 work-groups per SM (registers, shared memory or
     threads), or, for the main one (tiled_conv), does fewer than 8 FMA
     (FFMA, or 32 per HMMA) per load in its main loop.

Tools: clang (clang-14 first, to match libclc-14), /usr/lib/clc/nvptx64--
nvidiacl.bc (Debian's libclc-14), ptxas and cuobjdump from PATH or
/usr/local/cuda/bin, else from PyPI's nvidia-cuda-nvcc, nvidia-cuda-cuobjdump
and nvidia-cuda-nvdisasm wheels, installed into BUILD/ptx-venv.  Whatever
cannot be found or installed makes the check skip with a message (exit 0),
never fail.

NVIDIA's OpenCL compiler is not clang: registers and spills are close
proxies, the instruction mix is indicative (../shared/GPU.md).
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROWS = ("nvidia", "generic")
# The TF32 variant: TILED in TF32 math mode with the NVIDIA row, built
# through the portable emulation here and reported as the PTX build
TF32_ROW = "nvidia+tf32"
TF32_ENV = {"CLCONV_TUNING": "nvidia", "CLCONV_MATH": "tf32", "CLCONV_TF32_EMULATE": "1"}
MMA_FMAS = 16 * 8 * 8 // 32  # multiply-adds per lane of one m16n8k8 mma
# fp32 resources per SM: registers, threads, work-groups, shared memory
ARCHS = {
    "sm_80": {"regs": 65536, "threads": 2048, "blocks": 32, "smem": 164 * 1024},
    "sm_90": {"regs": 65536, "threads": 2048, "blocks": 32, "smem": 228 * 1024},
}
SMEM_RESERVED = 1024     # per work-group, sm_80 and later
DEFAULT_WG = 64          # host/launch.c: kernels without reqd_work_group_size
MIN_GROUPS_PER_SM = 2
MIN_FFMA_PER_LOAD = 8
GATED_PREFIX = "tiled_"  # kernel files whose kernels the gates apply to
MAIN_KERNELS = ("tiled_conv",)
# The anchors at mb1, then a depthwise and a strided 1x1 layer (GEMM's
# depthwise and flat kernels)
EXTRA_SHAPES = ('mb1g32ic32ih28oc32kh3ph1n"dw"', 'mb1ic64ih28oc128kh1sh2n"1x1s2"')
LIBCLC = "/usr/lib/clc/nvptx64--nvidiacl.bc"
WHEELS = {"ptxas": "nvidia-cuda-nvcc", "cuobjdump": "nvidia-cuda-cuobjdump",
          "nvdisasm": "nvidia-cuda-nvdisasm"}


def skip(msg):
    print("ptx-check: SKIPPED: " + msg)
    sys.exit(0)


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


# ---- tools ---------------------------------------------------------------

def venv_tool(venv, name):
    hits = glob.glob(os.path.join(venv, "lib", "python3*", "site-packages", "nvidia", "**",
                                  "bin", name), recursive=True)
    return hits[0] if hits else None


def install_wheel(venv, pkg):
    if not os.path.exists(os.path.join(venv, "bin", "pip")):
        if run([sys.executable, "-m", "venv", venv]).returncode != 0:
            return False
    r = run([os.path.join(venv, "bin", "pip"), "install", "--quiet", pkg])
    if r.returncode != 0:
        print("ptx-check: pip install %s failed: %s" % (pkg, r.stderr.strip()[-300:]))
    return r.returncode == 0


def find_tool(name, venv, install):
    """PATH, the CUDA toolkit, then the venv (installing its wheel when asked)."""
    path = shutil.which(name) or shutil.which(name, path="/usr/local/cuda/bin")
    if path:
        return path
    path = venv_tool(venv, name)
    if not path and install:
        print("ptx-check: %s not found: installing PyPI's %s into %s" % (name, WHEELS[name], venv))
        if install_wheel(venv, WHEELS[name]):
            path = venv_tool(venv, name)
    return path


def find_clang():
    for c in ("clang-14", "clang"):
        if shutil.which(c):
            return shutil.which(c)
    return None


# ---- which builds the GPU rows make ------------------------------------------

BUILT = re.compile(r'built kernels/(\w+)\.cl with "(.*)" from source')


def bench_builds(bench, anchors, algos, extra_env):
    """[(file, options)] the library built running algos over the anchors
    and EXTRA_SHAPES, every pass, in the environment extra_env."""
    env = dict(os.environ, CLCONV_LOG="2", CLCONV_CACHE="0", **extra_env)
    cmd = [bench, "--mode=P", "--reps=1", "--warmup=0", "--dir=all", "--algo=" + algos,
           "--mb=1", "--batch=" + anchors] + list(EXTRA_SHAPES)
    r = run(cmd, env=env)
    if r.returncode != 0:
        sys.exit("ptx-check: %s failed (%d):\n%s" % (" ".join(cmd), r.returncode,
                                                     r.stderr[-2000:]))
    return [(m.group(1), " ".join(o for o in m.group(2).split() if o != "-w"))
            for m in BUILT.finditer(r.stderr)]


def collect_variants(bench, anchors, kernels_dir):
    """{(file, options): set of rows} from the library's own build log."""
    variants = {}
    for row in ROWS:
        fp32 = {"CLCONV_TUNING": row, "CLCONV_MATH": "fp32"}
        for key in bench_builds(bench, anchors, "gemm,tiled", fp32):
            variants.setdefault(key, set()).add(row)
    # the emulated TF32 builds, less -DTF32_EMULATE: the inline-PTX ones
    for fname, opts in bench_builds(bench, anchors, "tiled", TF32_ENV):
        words = opts.split()
        if "-DTF32" in words:
            key = (fname, " ".join(w for w in words if w != "-DTF32_EMULATE"))
            variants.setdefault(key, set()).add(TF32_ROW)
    if not any(TF32_ROW in rows for rows in variants.values()):
        sys.exit("ptx-check: the TF32 run built no -DTF32 kernel")
    for path in sorted(glob.glob(os.path.join(kernels_dir, "*.cl"))):
        name = os.path.basename(path)[:-3]
        if name == "prelude":  # built in front of every source, not on its own
            continue
        if not any(f == name for f, _ in variants):
            variants[(name, "")] = {"-"}
    return variants


# ---- compiling ---------------------------------------------------------------

def work_group_sizes(clang, src, opts):
    """{kernel: work-items} from reqd_work_group_size, evaluated after the
    preprocessor has expanded the build options."""
    r = run([clang, "-E", "-P", "-x", "cl", "-cl-std=CL1.2"] + fp16_flags(opts) + opts.split() +
            [src])
    text = " ".join(r.stdout.split())
    sizes = {}
    for m in re.finditer(r"reqd_work_group_size\((.*?),\s*1\s*,\s*1\s*\)\)\)\s*void\s+(\w+)", text):
        expr = m.group(1)
        if re.fullmatch(r"[0-9()+\-*/ ]+", expr):
            sizes[m.group(2)] = int(eval(expr.replace("/", "//")))  # digits and operators only
    return sizes


def with_prelude(kernels_dir, fname, out):
    """The text the library builds for kernels/fname.cl (program.c): the
    prelude, then the source, written to out."""
    with open(out, "w") as o:
        for part in ("prelude", fname):
            with open(os.path.join(kernels_dir, part + ".cl")) as f:
                o.write(f.read())
            o.write("\n")
    return out


def fp16_flags(opts):
    """clang-14's OpenCL header declares vload_half / vstore_half only with
    cl_khr_fp16 on, although OpenCL 1.2 makes them core: fp16-storage
    builds (-DDT=1) turn it on."""
    return ["-Xclang", "-cl-ext=+cl_khr_fp16"] if "-DDT=1" in opts.split() else []


def compile_ptx(clang, src, opts, out):
    cmd = [clang, "-target", "nvptx64-unknown-nvidiacl", "-cl-std=CL1.2", "-O3", "-Xclang",
           "-finclude-default-header", "-Xclang", "-mlink-builtin-bitcode", "-Xclang", LIBCLC,
           "-S", "-o", out] + fp16_flags(opts) + opts.split() + [src]
    r = run(cmd)
    if r.returncode != 0:
        sys.exit("ptx-check: clang failed on %s %s:\n%s" % (src, opts, r.stderr[-2000:]))
    with open(out) as f:
        ptx = f.read()
    # clang writes .version 3.2 / .target sm_20, which ptxas no longer takes
    ptx = re.sub(r"^\.version .*$", ".version 7.0", ptx, flags=re.M)
    ptx = re.sub(r"^\.target .*$", ".target sm_80", ptx, flags=re.M)
    with open(out, "w") as f:
        f.write(ptx)
    return ptx


def parse_ptxas(text):
    info, cur = {}, None
    for line in text.splitlines():
        m = re.search(r"Function properties for (\w+)", line)
        if m:
            cur = info.setdefault(m.group(1), {})
            continue
        m = re.search(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads",
                      line)
        if m and cur is not None:
            cur.update(stack=int(m.group(1)), spill_st=int(m.group(2)), spill_ld=int(m.group(3)))
        m = re.search(r"Compiling entry function '(\w+)'", line)
        if m:
            cur = info.setdefault(m.group(1), {})
        m = re.search(r"Used (\d+) registers", line)
        if m and cur is not None:
            cur["regs"] = int(m.group(1))
            s = re.search(r"(\d+) bytes smem", line)
            cur["smem"] = int(s.group(1)) if s else 0
    return {k: v for k, v in info.items() if "regs" in v}


def assemble(ptxas, ptx_path, arch, cubin):
    r = run([ptxas, "-arch=" + arch, "-v", ptx_path, "-o", cubin])
    if r.returncode != 0:
        sys.exit("ptx-check: ptxas failed on %s:\n%s" % (ptx_path, r.stderr[-2000:]))
    return parse_ptxas(r.stderr + r.stdout)


# ---- instruction counts --------------------------------------------------------

def count_loop(instrs, is_fma, is_mma, is_ldg, is_lds, backward):
    """Counts over all instructions, and over the loop body (from a backward
    branch's target to the branch) with the most FMA work: loop = [FMAs per
    lane (an mma counting MMA_FMAS), global loads, shared loads]."""
    preds = (is_fma, is_mma, is_ldg, is_lds)
    total = [sum(map(f, (i for _, i in instrs))) for f in preds]
    best = [0, 0, 0]
    for pos, (addr, ins) in enumerate(instrs):
        target = backward(addr, ins)
        if target is None:
            continue
        body = [i for a, i in instrs[: pos + 1] if a >= target]
        fma, mma, ldg, lds = [sum(map(f, body)) for f in preds]
        if fma + MMA_FMAS * mma > best[0]:
            best = [fma + MMA_FMAS * mma, ldg, lds]
    return {"ffma": total[0], "hmma": total[1], "ldg": total[2], "lds": total[3], "loop": best}


def sass_opcode(name):
    return lambda ins: re.search(r"\b%s\b" % name, ins) is not None


def sass_backward(addr, ins):
    """The target of a branch back to addr or before, else None."""
    m = re.search(r"\bBRA\b.*?0x([0-9a-f]+)", ins)
    return int(m.group(1), 16) if m and int(m.group(1), 16) <= addr else None


def sass_counts(cuobjdump, cubin):
    """{kernel: counts} from the SASS, None if cuobjdump fails."""
    r = run([cuobjdump, "-sass", cubin])
    if r.returncode != 0:
        return None
    funcs, name = {}, None
    for line in r.stdout.splitlines():
        m = re.search(r"Function : (\w+)", line)
        if m:
            name = m.group(1)
            funcs[name] = []
            continue
        m = re.search(r"/\*([0-9a-f]{4,})\*/\s+(.*?);", line)
        if m and name:
            funcs[name].append((int(m.group(1), 16), m.group(2)))
    return {k: count_loop(v, sass_opcode("FFMA"), sass_opcode("HMMA"), sass_opcode("LDG"),
                          sass_opcode("LDS"), sass_backward) for k, v in funcs.items()}


def ptx_counts(ptx):
    """The same counts from the PTX (fallback without cuobjdump)."""
    out = {}
    for m in re.finditer(r"\.entry (\w+)\((.*?)\n\}\n", ptx, re.S):
        lines = [l.strip() for l in m.group(2).splitlines()]
        labels, instrs = {}, []
        for l in lines:
            lm = re.match(r"(\$?\w+):", l)
            if lm:
                labels[lm.group(1)] = len(instrs)
            elif l and not l.startswith("//"):
                instrs.append((len(instrs), l))

        def backward(addr, ins):
            b = re.search(r"\bbra(?:\.uni)?\s+(\$?\w+);", ins)
            t = labels.get(b.group(1)) if b else None
            return t if t is not None and t <= addr else None

        out[m.group(1)] = count_loop(instrs, lambda i: i.startswith("fma.rn.f32"),
                                     lambda i: i.startswith("mma.sync"),
                                     lambda i: "ld.global" in i, lambda i: "ld.shared" in i,
                                     backward)
    return out


# ---- the report --------------------------------------------------------------------

def groups_per_sm(regs, smem, wg, arch):
    a = ARCHS[arch]
    warps = -(-wg // 32)
    regs_per_warp = -(-(regs * 32) // 256) * 256
    by_regs = (a["regs"] // regs_per_warp) // warps if regs_per_warp else a["blocks"]
    by_smem = a["smem"] // (smem + SMEM_RESERVED)
    by_threads = a["threads"] // (warps * 32)
    return min(by_regs, by_smem, by_threads, a["blocks"])


def check_kernel(fname, kernel, p, c, occ):
    """The gates' complaints about one tiled kernel ([] when it passes)."""
    if not fname.startswith(GATED_PREFIX):
        return []
    bad = []
    if p["stack"] or p["spill_st"] or p["spill_ld"]:
        bad.append("stack frame or spills")
    if occ < MIN_GROUPS_PER_SM:
        bad.append("%d work-group(s) per SM" % occ)
    loop = c["loop"] if c else [0, 0, 0]
    if kernel in MAIN_KERNELS and loop[0] < MIN_FFMA_PER_LOAD * max(1, loop[1] + loop[2]):
        bad.append("main loop FMA:load %d:%d" % (loop[0], loop[1] + loop[2]))
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--kernels", default="kernels")
    ap.add_argument("--anchors", default="tools/shapes/anchors.txt")
    ap.add_argument("--no-install", action="store_true", help="use only tools already present")
    args = ap.parse_args()

    clang = find_clang()
    if not clang:
        skip("no clang (sh tools/install-deps.sh clang libclc-14)")
    if not os.path.exists(LIBCLC):
        skip("no %s (Debian's libclc-14: sh tools/install-deps.sh libclc-14)" % LIBCLC)
    venv = os.path.join(args.build, "ptx-venv")
    ptxas = find_tool("ptxas", venv, not args.no_install)
    if not ptxas:
        skip("no ptxas (CUDA toolkit, or PyPI's nvidia-cuda-nvcc) could be found or installed")
    cuobjdump = find_tool("cuobjdump", venv, not args.no_install)
    if cuobjdump and not shutil.which("nvdisasm") and not venv_tool(venv, "nvdisasm"):
        find_tool("nvdisasm", venv, not args.no_install)
    for tool in ("nvdisasm",):  # cuobjdump -sass runs nvdisasm from PATH
        t = venv_tool(venv, tool)
        if t:
            os.environ["PATH"] = os.path.dirname(t) + os.pathsep + os.environ["PATH"]
    print("ptx-check: clang %s, libclc %s, ptxas %s, %s" % (
        clang, LIBCLC, ptxas, "cuobjdump " + cuobjdump if cuobjdump else
        "no cuobjdump: FFMA, HMMA and loads counted in the PTX (fma.rn.f32, mma.sync, "
        "ld.global, ld.shared)"))

    variants = collect_variants(args.bench, args.anchors, args.kernels)
    work = tempfile.mkdtemp(prefix="ptx-check-", dir=args.build)
    fmt = "%-14s %-5s %-28s %4s %5s %9s %6s %4s %5s %5s %5s %5s %5s %11s  %s"
    print(fmt % ("rows", "arch", "kernel", "regs", "stack", "spill s/l", "smem", "wg", "WG/SM",
                 "FFMA", "HMMA", "LDG", "LDS", "loop F:L", "options / verdict"))
    failures = 0
    for n, ((fname, opts), rows) in enumerate(sorted(variants.items())):
        src = with_prelude(args.kernels, fname, os.path.join(work, "k%d.cl" % n))
        ptx_path = os.path.join(work, "k%d.ptx" % n)
        ptx = compile_ptx(clang, src, opts, ptx_path)
        wgs = work_group_sizes(clang, src, opts)
        for arch in ARCHS:
            cubin = os.path.join(work, "k%d_%s.cubin" % (n, arch))
            props = assemble(ptxas, ptx_path, arch, cubin)
            counts = (sass_counts(cuobjdump, cubin) if cuobjdump else None) or ptx_counts(ptx)
            for kernel, p in sorted(props.items()):
                c = counts.get(kernel)
                wg = wgs.get(kernel, DEFAULT_WG)
                occ = groups_per_sm(p["regs"], p["smem"], wg, arch)
                bad = check_kernel(fname, kernel, p, c, occ)
                failures += bool(bad)
                loop = c["loop"] if c else [0, 0, 0]
                ratio = "%d:%d" % (loop[0], loop[1] + loop[2]) if loop[0] else "-"
                print(fmt % (",".join(sorted(rows)), arch, "%s:%s" % (fname, kernel), p["regs"],
                             p["stack"], "%d/%d" % (p["spill_st"], p["spill_ld"]), p["smem"],
                             "%d%s" % (wg, "" if kernel in wgs else "*"), occ,
                             c["ffma"] if c else "-", c["hmma"] if c else "-",
                             c["ldg"] if c else "-",
                             c["lds"] if c else "-", ratio,
                             ("FAIL: " + "; ".join(bad) + " | " if bad else "") + (opts or "-")))
    shutil.rmtree(work, ignore_errors=True)
    print("ptx-check: wg* = no reqd_work_group_size (the library's default); loop F:L = FMA "
          "(FFMA + %d per HMMA, per lane) : (global + shared loads) in the main loop; WG/SM = "
          "work-groups per SM by registers, shared memory and threads; rows %s = TILED in TF32 "
          "math mode on an sm_80+ device (inline PTX mma.sync)" % (MMA_FMAS, TF32_ROW))
    if failures:
        print("ptx-check: FAILED: %d tiled kernel build(s) miss a gate (no stack or spills, "
              ">= %d work-groups per SM, main loop FMA:load >= %d)"
              % (failures, MIN_GROUPS_PER_SM, MIN_FFMA_PER_LOAD))
        return 1
    print("ptx-check: passed (%d builds, %s)" % (len(variants), ", ".join(ARCHS)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
