#!/bin/sh
# dummy_multi: multiple-results model. Writes perf_dummy_multi.csv (model,performance,metric)
# into the run directory and copies it to ../ (the MAD root, /myworkspace in the container).
set -eu

out=perf_dummy_multi.csv
base=$(( ($(date +%s) + $$) % 9000 + 1000 ))

{
    echo "model,performance,metric"
    echo "1,${base},samples_per_sec"
    echo "2,$(( base * 2 )),samples_per_sec"
    echo "3,$(( base * 3 )),samples_per_sec"
} > "${out}"

cp "${out}" ../
echo "wrote ${out} (3 results) and copied it to ../"
