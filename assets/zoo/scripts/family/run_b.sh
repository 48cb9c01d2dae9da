#!/bin/sh
# family/model_b: sub-directory model (scripts/family/models.json).
set -eu

perf=$(( ($(date +%s) + $$) % 900 + 2000 ))
echo "performance: ${perf} tokens_per_second"
