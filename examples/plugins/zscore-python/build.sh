#!/bin/sh
# Build dist/zscore-python.wasm from app.py with componentize-py; what
# `foghorn plugin build` runs. Needs `pip install componentize-py`.
set -eu
cd "$(dirname "$0")"
mkdir -p dist
componentize-py -d wit -w processor componentize app -o dist/zscore-python.wasm
