#!/bin/sh
# family/model_a: sub-directory model (scripts/family/models.json).
set -eu

perf=$(( ($(date +%s) + $$) % 900 + 100 ))
echo "performance: ${perf} samples_per_second"
