#!/bin/sh
# dummy_args: echoes every argument on its own line and reports how many there were.
# `--tags dummy_args:batch-size=32:fp16` should give: --batch-size, 32, --fp16 (3 args).
set -eu

for a in "$@"; do
    echo "arg: ${a}"
done
echo "performance: $# args"
