#!/bin/sh
# dummy: single-result model. Prints exactly one `performance: <number> <metric>` line.
set -eu

if [ -r /etc/madengine-zoo-release ]; then
    echo "image: $(cat /etc/madengine-zoo-release)"
fi
echo "gpu arch: ${MAD_SYSTEM_GPU_ARCHITECTURE:-unset}"

# Deterministic-ish positive integer (1000..9999) from the clock and the pid.
perf=$(( ($(date +%s) + $$) % 9000 + 1000 ))
echo "performance: ${perf} samples_per_second"
