#!/usr/bin/env bash
# Installs what `make bench-peers` needs, once: the Debian build tools (cmake, g++, python3-venv)
# when missing, and a private venv (.build/peers-venv by default) holding pinned numpy, gguf and
# llama-cpp-python built from its PyPI sdist for this CPU (-DGGML_NATIVE=ON), so the llama.cpp
# peer runs the same kind of code llama-bench would. A re-run with the venv in place is instant.
# The build log goes to $VENV/build.log; progress and errors go to stderr.
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1
cd "$(dirname "${BASH_SOURCE[0]}")/.."

VENV=${PEERS_VENV:-.build/peers-venv}
LLAMA_CPP_PYTHON=llama-cpp-python==0.3.36
NUMPY=numpy==2.4.6
THREADPOOLCTL=threadpoolctl==3.6.0
GGUF=gguf==0.19.0
CMAKE_ARGS_PINNED="-DGGML_NATIVE=ON -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF"
APT_NEEDED="cmake g++ make python3-venv python3-dev"

log() { echo "bench-peers setup: $*" >&2; }
die() { echo "bench-peers setup: error: $*" >&2; exit 1; }

missing=""
for p in $APT_NEEDED; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
	log "installing:$missing"
	SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
	$SUDO apt-get update -qq || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null \
		|| die "apt-get install$missing failed"
fi

# numpy, threadpoolctl and gguf (the numpy peer's GGUF reader) are pinned and installed on every run (a
# no-op when present); llama-cpp-python is built only when missing or built with other flags, as the
# stamp records.
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV" || die "python3 -m venv $VENV failed"
"$VENV/bin/pip" install --quiet "$NUMPY" "$THREADPOOLCTL" "$GGUF" \
	|| die "pip install $NUMPY $THREADPOOLCTL $GGUF failed"
STAMP="$VENV/.llama-cpp-python-build"
BUILD="$LLAMA_CPP_PYTHON $CMAKE_ARGS_PINNED"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$BUILD" ] && "$VENV/bin/python" -c 'import llama_cpp' 2>/dev/null; then
	log "$VENV ready ($LLAMA_CPP_PYTHON, $NUMPY, $THREADPOOLCTL, $GGUF)"
	exit 0
fi
log "building $LLAMA_CPP_PYTHON from the PyPI sdist for this CPU (one-time; about 6 minutes on 2 cores;" \
	"log: $VENV/build.log)"
start=$(date +%s)
CMAKE_ARGS="$CMAKE_ARGS_PINNED" CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)} \
	"$VENV/bin/pip" install --verbose --force-reinstall --no-deps --no-binary=llama-cpp-python --no-cache-dir \
	"$LLAMA_CPP_PYTHON" >"$VENV/build.log" 2>&1 \
	|| { tail -n 30 "$VENV/build.log" >&2; die "building $LLAMA_CPP_PYTHON failed"; }
"$VENV/bin/pip" install --quiet "$LLAMA_CPP_PYTHON" || die "installing the dependencies of $LLAMA_CPP_PYTHON failed"
"$VENV/bin/python" -c 'import llama_cpp' || die "llama_cpp does not import after the build"
echo "$BUILD" >"$STAMP"
log "built $LLAMA_CPP_PYTHON in $(( $(date +%s) - start )) s"
