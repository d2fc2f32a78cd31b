# shellcheck shell=bash
# Shared by the benchmark scripts (sourced, not run).
# seconds CMD...: wall-clock seconds CMD takes (its stdout discarded).
seconds() { local start end; start=$(date +%s.%N); "$@" >/dev/null; end=$(date +%s.%N); echo "$end - $start" | bc -l; }
# median: the median of the numbers on stdin, one per line.
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
