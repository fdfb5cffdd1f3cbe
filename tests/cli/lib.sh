# Helpers for CLI end-to-end tests. Usage in a test: source "$(dirname "$0")/lib.sh" "$@"
set -u
CNN=$1
SRC=$2
SHARED_DATA=${SHARED_DATA:-$SRC/../shared/data}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
failures=0
skip() { echo "skipped: $*"; exit 77; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# expect_error CODE PATTERN -- command...: the command must exit with CODE, print exactly one
# line on stderr (after the banner lines), matching PATTERN (grep -E).
expect_error() {
  local code=$1 pattern=$2; shift 3
  local out rc
  out=$("$@" 2>&1 >/dev/null); rc=$?
  local err_lines
  err_lines=$(printf '%s\n' "$out" | grep -c '^error:')
  if [ "$rc" != "$code" ]; then fail "expected exit $code, got $rc: $* -> $out"; return; fi
  if [ "$err_lines" != 1 ]; then fail "expected one 'error:' line, got $err_lines: $* -> $out"; return; fi
  if ! printf '%s\n' "$out" | grep -qE -- "$pattern"; then fail "message does not match /$pattern/: $out"; return; fi
  echo "ok: exit $code: $(printf '%s\n' "$out" | grep '^error:')"
}
finish() {
  if [ "$failures" -gt 0 ]; then echo "$failures failure(s)"; exit 1; fi
  echo "all passed"
  exit 0
}
