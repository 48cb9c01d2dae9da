#!/bin/sh
# variant: the metric names the Dockerfile variant the image was built from
# (ENV VARIANT_FLAVOUR, set differently in docker/variant.*.Dockerfile).
set -eu

flavour=${VARIANT_FLAVOUR:-unknown}
perf=$(( ($(date +%s) + $$) % 9000 + 1000 ))
echo "performance: ${perf} variant_${flavour}"
