#!/usr/bin/env bash
# A/B of a blocked-convolution micro-kernel change (lib/kernels/blocked_conv_simd.h) in one process:
# the header at a git revision ("old", default HEAD) against the working tree's ("new"), each
# compiled into its own namespace, timed alternately on the training pass's calls with the FMA
# peak measured between repetitions (kernel_ab/kernel_ab.cpp). For machines whose speed moves
# between runs: a change worth keeping shows the same sign in every round.
#
#   scripts/bench/kernel_ab.sh                              # HEAD vs working tree, ResNet-18-CIFAR's shapes
#   scripts/bench/kernel_ab.sh --rev HEAD~3 --op wgrad 128:16:2 512:4:16
#
# Options:
#   --rev REV        the old header's revision (default HEAD)
#   --op fwd|wgrad|both   the forward tile or the weight gradient (default both)
#   --isa avx512|avx2     the kernels' ISA (default avx512; the machine must have it)
#   --threads N      threads, each on its own images (default 2)
#   --reps N         alternating repetitions (default 30)
#   --rounds N       the whole comparison N times (default 2)
#   shapes C:H:N     C channels to C, 3x3 at H x H, N images per thread (default: ResNet-18-CIFAR's
#                    stages with the images the pipelined passes give a thread at batch 128:
#                    64:32:1 128:16:2 256:8:4 512:4:16)
#
# Needs a configured build (BUILD=dir, default build) with libcnn.a built; compiles with g++
# (CXX=...) into a temporary directory. Both variants use today's blocked_conv.h: a revision whose
# kernels need other arguments does not compile.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${BUILD:-$root/build}"
cxx="${CXX:-g++}"
rev=HEAD op=both isa=avx512 threads=2 reps=30 rounds=2
shapes=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rev) rev="$2"; shift 2 ;;
    --op) op="$2"; shift 2 ;;
    --isa) isa="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    -*) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) shapes+=("$1"); shift ;;
  esac
done
[ ${#shapes[@]} -gt 0 ] || shapes=(64:32:1 128:16:2 256:8:4 512:4:16)
case "$op" in fwd|wgrad) ops=("$op") ;; both) ops=(fwd wgrad) ;; *) echo "error: --op: expected fwd, wgrad or both, got '$op'" >&2; exit 2 ;; esac
case "$isa" in
  avx512) flags=(-mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx2 -mfma -mf16c -Wno-maybe-uninitialized) avx512=1 ;;
  avx2) flags=(-mavx2 -mfma -mf16c) avx512=0 ;;
  *) echo "error: --isa: expected avx512 or avx2, got '$isa'" >&2; exit 2 ;;
esac
for lib in "$build/libcnn.a" "$build/libcnn_comm.a"; do
  [ -f "$lib" ] || { echo "error: $lib not found: build the project first (BUILD=dir to use another build)" >&2; exit 1; }
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git -C "$root" show "$rev:lib/kernels/blocked_conv_simd.h" > "$work/old.h" 2>/dev/null ||
  { echo "error: --rev $rev: no lib/kernels/blocked_conv_simd.h at that revision" >&2; exit 1; }
cp "$root/lib/kernels/blocked_conv_simd.h" "$work/new.h"
common=(-std=c++20 -O3 -DNDEBUG -I"$root/lib")
for v in old new; do
  "$cxx" "${common[@]}" "${flags[@]}" -DCNN_AB_AVX512=$avx512 -DCNN_AB_HEADER="\"$work/$v.h\"" \
    -DCNN_AB_NAMESPACE=blocked_conv_simd_$v -DCNN_AB_FORWARD=forward_$v -DCNN_AB_WGRAD=wgrad_$v \
    -c "$here/kernel_ab/variant.cpp" -o "$work/$v.o"
done
"$cxx" "${common[@]}" "$here/kernel_ab/kernel_ab.cpp" "$work/old.o" "$work/new.o" "$build/libcnn.a" \
  "$build/libcnn_comm.a" -lopenblas -lyaml-cpp -lfmt -lz -ljpeg -lpthread -o "$work/kernel_ab"

echo "old: $rev ($(git -C "$root" rev-parse --short "$rev")), new: the working tree; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
for ((r = 1; r <= rounds; ++r)); do
  echo "round $r"
  for o in "${ops[@]}"; do "$work/kernel_ab" "$isa" "$o" "$threads" "$reps" "${shapes[@]}"; done
done
