#!/usr/bin/env bash
# numpy's AVX-512 dispatch targets this CPU has (for NPY_DISABLE_CPU_FEATURES, set by the
# Makefile so that speech numerics are those of an AVX2 machine: see the Makefile). Prints
# nothing on a CPU without AVX-512, so numpy never hears of a feature the CPU lacks.
flags=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2) "
has() { for f in "$@"; do [[ "$flags" == *" $f "* ]] || return 1; done; }
out=()
has avx512f && out+=(AVX512F)
has avx512f avx512cd && out+=(AVX512CD)
has avx512f avx512cd avx512bw avx512dq avx512vl && out+=(AVX512_SKX)
has avx512f avx512cd avx512bw avx512dq avx512vl avx512_vnni && out+=(AVX512_CLX)
has avx512f avx512cd avx512bw avx512dq avx512vl avx512ifma avx512vbmi && out+=(AVX512_CNL)
has avx512f avx512cd avx512bw avx512dq avx512vl avx512ifma avx512vbmi avx512_vbmi2 avx512_bitalg \
    avx512_vpopcntdq avx512_vnni && out+=(AVX512_ICL)
echo "${out[*]}"
