#!/bin/sh
# dummy_sleep: sleeps for $1 seconds (models.json passes 300, timeout is 3),
# then prints a performance line. Used to exercise the wall-clock timeout.
set -eu

secs=${1:-300}
echo "sleeping ${secs}s"
sleep "${secs}"
echo "performance: ${secs} seconds_slept"
