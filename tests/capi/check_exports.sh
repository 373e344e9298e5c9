#!/bin/sh
# Every dynamic symbol libsimdoptim.so defines must be a simdoptim_* C API function (the
# version-script node aside): no C++ symbol of the library or its dependencies may leak.
# Usage: check_exports.sh <path to libsimdoptim.so>
set -eu
lib=$1
symbols=$(nm -D --defined-only "$lib" | awk '{print $3}')
count=$(echo "$symbols" | grep -c '^simdoptim_' || true)
leaks=$(echo "$symbols" | grep -v -e '^simdoptim_' -e '^SIMDOPTIM_0$' || true)
if [ -n "$leaks" ]; then
  echo "libsimdoptim.so exports symbols outside the C API:"
  echo "$leaks"
  exit 1
fi
if [ "$count" -lt 40 ]; then
  echo "libsimdoptim.so exports only $count simdoptim_* symbols"
  exit 1
fi
echo "libsimdoptim.so exports $count simdoptim_* symbols and nothing else"
