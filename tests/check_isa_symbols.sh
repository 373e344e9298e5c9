#!/usr/bin/env bash
# Fails if an object compiled with an instruction set's flags defines a weak (inline, template)
# symbol: the linker keeps one copy of each, and an AVX-512 copy chosen for the SSE2 or scalar
# path would crash CPUs without AVX-512. Kernel code must have internal linkage or live in its
# build's namespace as strong symbols.
set -euo pipefail
bad=0
for obj in "$@"; do
  weak=$(nm -C "$obj" | awk '$2 ~ /^[WVu]$/ && $3 != "DW.ref.__gxx_personality_v0" {print}')
  if [[ -n $weak ]]; then
    echo "weak symbols in $obj:"
    echo "$weak"
    bad=1
  fi
done
echo "checked $# objects"
exit $bad
