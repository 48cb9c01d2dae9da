#!/bin/sh
# dummy_fail: always fails. One line on stderr, exit status 3, no performance line.
set -eu

echo "dummy_fail: intentional failure, exiting with status 3" >&2
exit 3
