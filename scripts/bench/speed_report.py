#!/usr/bin/python3
"""The header and table of scripts/bench/speed.sh from its run records (plain text or Markdown).

Inputs (written by speed.sh):
  records  case id <TAB> engine (cnn0, cnn1, ... per --coretype; torch; ort) <TAB> peak RSS KiB <TAB> JSON
  meta     case id <TAB> key (params | kernels) <TAB> value
  cases    speed.sh's case lines: id|label|config|torch model|batch|train|default
  banners  coretype <TAB> cnn's banner line
Per case and engine: the median images/s and the largest peak RSS over the runs.
--ort is ONNX Runtime's version, "missing" (inference rows then say how to install it) or "off"
(no ORT columns).
"""
import argparse
import json
import re
import statistics
import sys


def read_tsv(path, fields):
    with open(path) as f:
        return [line.rstrip("\n").split("\t", fields - 1) for line in f if line.strip()]


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for name in ("records", "meta", "cases", "banners", "threads", "rounds", "seconds", "warmup",
                 "nproc", "cpu", "cpu-isa", "peak", "cnn-isa-env", "torch", "torchvision",
                 "torch-cap", "torch-base-kib", "ort", "ort-base-kib", "node-version", "env-core", "torch-core",
                 "load-start", "load-end", "round-trips"):
        ap.add_argument("--" + name, required=True)
    ap.add_argument("--markdown", default="0")
    return ap.parse_args()


class Runs:
    """The timed runs, by (case id, engine)."""

    def __init__(self, path):
        self.by = {}
        for case, engine, rss, js in read_tsv(path, 4):
            self.by.setdefault((case, engine), []).append((json.loads(js), int(rss)))

    def median_ips(self, case, engine):
        rs = self.by.get((case, engine), [])
        return statistics.median(j["images_per_s"] for j, _ in rs) if rs else None

    def round_ratios(self, case, engine, ref):
        """engine / ref images/s round by round: the r-th runs of both were timed in one round,
        next to each other, so a drift of the host between rounds cancels in each ratio."""
        a, b = self.by.get((case, engine), []), self.by.get((case, ref), [])
        return [x["images_per_s"] / y["images_per_s"] for (x, _), (y, _) in zip(a, b) if y["images_per_s"]]

    def peak_rss_mib(self, case, engine):
        rs = self.by.get((case, engine), [])
        return max(rss for _, rss in rs) / 1024 if rs else None

    def blas_kernel(self, ci):
        seen = [j.get("blas_core", "?") for (_, e), rs in self.by.items() if e == f"cnn{ci}"
                for j, _ in rs]
        return max(set(seen), key=seen.count) if seen else "?"

    def has_torch(self):
        return any(e == "torch" for _, e in self.by)

    def warnings(self, threads):
        for (case, engine), rs in self.by.items():
            for j, _ in rs:
                if int(j.get("threads", -1)) != int(threads):
                    yield f"{case} {engine}: ran with {j.get('threads')} threads, not {threads}"


ORT_MISSING = "n/a (scripts/bench/setup_ort.sh)"


def num(x, fmt=None):
    """x with thousands separators; one decimal below 100 (ResNet-50 trains at tens of images/s)."""
    if x is None:
        return "-"
    return (fmt or ("{:,.1f}" if abs(x) < 100 else "{:,.0f}")).format(x)


def ratios(cnn, ref):
    return [num(x / ref if x and ref else None, "{:.2f}x") for x in cnn]


def round_spread(rs):
    """The rounds' own ratios as "median (lowest-highest)"."""
    if not rs:
        return "-"
    return f"{statistics.median(rs):.2f}x ({min(rs):.2f}-{max(rs):.2f})" if len(rs) > 1 else f"{rs[0]:.2f}x"


def table(runs, cases, meta, cores, ort_state):
    """Header row and rows: per case, images/s per engine (cnn columns, torch, ORT), the ratios
    cnn/torch (also round by round) and cnn/ORT, peak RSS per engine, cnn's kernels. ORT runs
    inference cases only."""
    torch = runs.has_torch()
    ort = ort_state != "off"
    names = [f"cnn [{runs.blas_kernel(ci)}]" if len(cores) > 1 else "cnn" for ci in range(len(cores))]
    header = ["case"] + [f"{n} img/s" for n in names]
    header += (["torch img/s"] if torch else []) + (["ORT img/s"] if ort else [])
    header += [f"{n}/torch" for n in names] if torch else []
    header += [f"{n}/torch by round" for n in names] if torch else []
    header += [f"{n}/ORT" for n in names] if ort else []
    header += [f"{n} peak RSS MiB" for n in names] + (["torch peak RSS MiB"] if torch else [])
    header += ["ORT peak RSS MiB"] if ort else []
    header += ["cnn kernels"]
    mib = "{:,.0f}"
    rows = []
    for c in cases:
        cid, label, inference = c[0], c[1], c[5] == "0"
        cnn = [runs.median_ips(cid, f"cnn{ci}") for ci in range(len(cores))]
        t, o = runs.median_ips(cid, "torch"), runs.median_ips(cid, "ort")
        row = [label] + [num(x) for x in cnn]
        row += [num(t)] if torch else []
        row += [num(o)] if ort else []
        row += ratios(cnn, t) if torch else []
        row += [round_spread(runs.round_ratios(cid, f"cnn{ci}", "torch")) for ci in range(len(cores))] if torch else []
        if ort:
            row += [ORT_MISSING if ort_state == "missing" and inference else r for r in ratios(cnn, o)]
        row += [num(runs.peak_rss_mib(cid, f"cnn{ci}"), mib) for ci in range(len(cores))]
        row += [num(runs.peak_rss_mib(cid, "torch"), mib)] if torch else []
        row += [num(runs.peak_rss_mib(cid, "ort"), mib)] if ort else []
        row += [meta.get((cid, "kernels"), "?")]
        rows.append(row)
    return header, rows


def header_lines(a, runs, cases, meta, cores):
    peak = json.loads(a.peak)
    def source(core, banner):
        chosen = re.search(r"\(chosen by cnn: OpenBLAS detected (\w+)\)", banner)
        if core == "env" and a.env_core:
            return " (OPENBLAS_CORETYPE from the environment)"
        if chosen:
            return f" (chosen by cnn: OpenBLAS detected {chosen.group(1)})"
        return " (OpenBLAS autodetect)" if core in ("env", "auto") else f" (OPENBLAS_CORETYPE={core})"
    kernels = ", ".join(runs.blas_kernel(ci) + source(core, banner) for ci, (core, banner) in enumerate(cores))
    isa_src = f"CNN_ISA={a.cnn_isa_env}" if a.cnn_isa_env else "chosen at run time"
    lines = [
        f"machine: {a.nproc} CPUs, {a.cpu} ({a.cpu_isa})",
        *[f"cnn: {banner}" for _, banner in cores],
        f"cnn ISA: {peak.get('isa', '?')} ({isa_src}); FMA peak (`cnn bench --peak`): "
        f"{peak.get('gflops', 0):.0f} GFLOP/s on {peak.get('threads', '?')} threads, "
        f"{peak.get('gflops_one_thread', 0):.0f} on one",
        f"cnn OpenBLAS kernel: {kernels}",
    ]
    if runs.has_torch():
        base = "" if a.torch_base_kib == "-" else \
            f"; python3 + import torch, torchvision alone: {int(a.torch_base_kib) / 1024:,.0f} MiB RSS"
        lines.append(f"torch: {a.torch}, torchvision {a.torchvision} (CPU capability {a.torch_cap}, "
                     f"OMP_NUM_THREADS={a.threads} OPENBLAS_NUM_THREADS=1"
                     + (f" OPENBLAS_CORETYPE={a.torch_core} (the OpenBLAS kernel cnn chose)" if a.torch_core else "")
                     + f", glibc malloc keeps its memory){base}")
    if a.ort == "missing":
        lines.append(f"ONNX Runtime: not installed (inference rows: {ORT_MISSING})")
    elif a.ort != "off":
        base = "" if a.ort_base_kib == "-" else \
            f"; node + onnxruntime-node alone: {int(a.ort_base_kib) / 1024:,.0f} MiB RSS"
        lines.append(f"ONNX Runtime: onnxruntime-node {a.ort} (node {a.node_version}, CPU execution provider, "
                     f"intra-op threads {a.threads}, inter-op 1, graph optimizations all) on "
                     f"`cnn export --init-seed 1 --batch <batch>`'s file, inference cases only{base}")
    models = {}  # config file name -> parameter count, in case order
    for c in cases:
        if (c[0], "params") in meta:
            models.setdefault(c[2].rsplit("/", 1)[-1], int(meta[(c[0], "params")]))
    params = "; ".join(f"{name} {n:,}" for name, n in models.items())
    lines += [
        f"parameters ({'equal on both sides' if runs.has_torch() else 'cnn'}): {params}",
        (f"threads: {a.threads} for every engine; {a.rounds} alternating round(s) per engine and case"
         if runs.has_torch() else f"threads: {a.threads}; {a.rounds} round(s) per case") +
        f", each {a.warmup} warm-up step(s) then >= {a.seconds} s; median images/s"
        + ("; the ratio is of the medians, and \"by round\" gives the median (and range) of the ratios"
           " of the runs timed next to each other in one round" if runs.has_torch() else ""),
        "peak RSS: GNU time's %M (the process's maximum resident set size), largest over the runs",
        f"load average (1 min): {a.load_start} at start, {a.load_end} at end",
    ]
    trips = {}  # case id -> the round trips measured before its rounds, in round order
    for cid, _, ns in read_tsv(a.round_trips, 3):
        trips.setdefault(cid, []).append(ns)
    labels = {c[0]: c[1] for c in cases}
    if trips:
        lines.append("cross-CPU round trip before each round, ns (`cnn bench --round-trip`: a cache line to "
                     "another thread and back; several times higher while the host keeps the CPUs far apart, "
                     "a slow phase for small steps): "
                     + "; ".join(f"{labels.get(cid, cid)} {'/'.join(ns)}" for cid, ns in trips.items()))
    return lines


def print_markdown(info, header, rows):
    for line in info:
        print(f"- {line}")
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(["---"] + ["--:"] * (len(header) - 2) + ["---"]) + "|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


def print_text(info, header, rows):
    for line in info:
        print(line)
    print()
    w = [max(len(x) for x in col) for col in zip(header, *rows)]
    last = len(w) - 1

    def fmt(r):
        return "  ".join(x.ljust(w[i]) if i in (0, last) else x.rjust(w[i])
                         for i, x in enumerate(r)).rstrip()
    print(fmt(header))
    print("  ".join("-" * n for n in w))
    for r in rows:
        print(fmt(r))


def main():
    a = parse_args()
    runs = Runs(a.records)
    meta = {(cid, key): value for cid, key, value in read_tsv(a.meta, 3)}
    with open(a.cases) as f:
        cases = [line.rstrip("\n").split("|") for line in f if line.strip()]
    cores = read_tsv(a.banners, 2)
    info = header_lines(a, runs, cases, meta, cores)
    header, rows = table(runs, cases, meta, cores, a.ort)
    (print_markdown if a.markdown == "1" else print_text)(info, header, rows)
    for w in runs.warnings(a.threads):
        print(f"warning: {w}", file=sys.stderr)


if __name__ == "__main__":
    main()
