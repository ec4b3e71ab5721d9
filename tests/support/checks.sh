# Shared by the shell tests: named checks counted into the plain "N passed, N failed" closing line.
passed=0
failed=0

check() {  # check NAME CONDITION...
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $name" >&2
  fi
}
contains() { grep -qF -- "$2" "$1"; }

finish_checks() {
  echo "$passed passed, $failed failed"
  test "$failed" -eq 0
}
