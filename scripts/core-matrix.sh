#!/usr/bin/env bash
# The collection on every ansible-core it claims (tests/matrix/cores.txt): for each core, a cached
# virtualenv on the Python the table gives it (this machine's pyenv holds 3.6 to 3.13), then the
# unit tests and ansible-test sanity with that core. `--py36` adds the modules' and module_utils'
# unit tests on Python 3.6 (EL 8's platform-python), with the module_utils of the newest core that
# still manages 3.6 hosts (2.16). The container lab's site.yml on the oldest and the newest core is
# tests/lab/test_core_versions.py (the safe_apply stage's lab).
#   scripts/core-matrix.sh                  every core: units and sanity
#   scripts/core-matrix.sh --edges --py36   the oldest and the newest, and Python 3.6 (make test)
#   scripts/core-matrix.sh --venvs          only build the virtualenvs, print "core venv" per line
#   --cores 2.15,2.21   --steps units|sanity|units,sanity
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
table=tests/matrix/cores.txt
cache=${CSKL_VENV_CACHE:-/var/cache/cloudstack-kvm-lab/venvs}
[ "$(id -u)" = 0 ] && mkdir -p "$cache" 2>/dev/null || cache=$top/.tmp/venvs
mkdir -p "$cache" "$top/.tmp/matrix"

pick=all steps=units,sanity py36=0 venvs_only=0
while [ $# -gt 0 ]; do
  case $1 in
    --edges) pick=edges ;;
    --cores) pick=$2; shift ;;
    --steps) steps=$2; shift ;;
    --py36) py36=1 ;;
    --no-cores) pick=none ;;
    --venvs) venvs_only=1 ;;
    *) echo "core-matrix: unknown argument $1 (see the head of $0)" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '[matrix] %s\n' "$*"; }

# find_python X.Y: an interpreter of that version, from pyenv or PATH (a pyenv shim on PATH
# answers only for the pyenv's selected versions, so each candidate is run once).
find_python() {
  local v=$1 p
  for p in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v".*/bin/python"$v" "$(command -v "python$v" || true)"; do
    [ -n "$p" ] && [ -x "$p" ] && "$p" -c 'pass' 2>/dev/null && { echo "$p"; return 0; }
  done
  echo "core-matrix: no Python $v on PATH or in pyenv (${PYENV_ROOT:-$HOME/.pyenv}/versions); install it, or run fewer cores with --cores" >&2
  return 1
}

# cached_venv NAME WANT PYTHON LABEL INSTALL: the virtualenv $cache/NAME-<WANT's first 12>, made by
# the function INSTALL (given its path; its output goes to .tmp/matrix/pip-NAME.log) unless one
# with the same hash is there; older ones of NAME are removed. Prints its path.
cached_venv() {
  local name=$1 want=$2 py=$3 label=$4 install=$5 venv logfile
  venv=$cache/$name-${want:0:12}
  logfile=$top/.tmp/matrix/pip-$name.log
  exec 8> "$cache/.lock-$name"
  flock 8
  if [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" != "$want" ] || [ ! -x "$venv/bin/python" ]; then
    log "creating $venv ($("$py" --version 2>&1), $label)" >&2
    rm -rf "$venv"
    "$py" -m venv "$venv"
    if ! "$install" "$venv" > "$logfile" 2>&1; then
      tail -n 30 "$logfile" >&2
      echo "core-matrix: pip failed for $label (log: $logfile)" >&2
      exec 8>&-
      return 1
    fi
    echo "$want" > "$venv/.requirements.sha256"
  fi
  local old
  for old in "$cache/$name"-*; do
    [ -d "$old" ] && [ "$old" != "$venv" ] && { log "removing the stale $old" >&2; rm -rf "$old"; }
  done
  exec 8>&-
  echo "$venv"
}

# core_venv CORE PYTHON ANSIBLE: a virtualenv with that core, its community package and the test
# tooling; prints its path.
core_venv() {
  local core=$1 pyv=$2 community=$3 py req want
  py=$(find_python "$pyv") || return 1
  req=$top/.tmp/matrix/requirements-$core.txt
  {
    echo "ansible-core==$core"
    # The test tooling of requirements-dev.txt, without the pins that belong to the main core
    # (ansible, ansible-core) or need a newer one than the oldest (ansible-lint, molecule).
    grep -vE '^(ansible|ansible-core|ansible-lint|molecule|molecule-plugins(\[.*\])?)==' requirements-dev.txt | sed 's/#.*//' | awk NF
    sed 's/#.*//' requirements.txt | awk NF
  } > "$req"
  want=$( (cat "$req"; echo "ansible==$community --no-deps"; "$py" --version 2>&1) | sha256sum | cut -d' ' -f1)
  cached_venv "core-$core" "$want" "$py" "ansible-core $core, ansible $community" install_core
}

# The community package only for its collections, without its own pin on ansible-core: the oldest
# core takes the collections of a later package (tests/matrix/cores.txt says why). $req and
# $community are core_venv's.
# shellcheck disable=SC2317  # called by name from cached_venv
install_core() {
  "$1/bin/pip" install -q --disable-pip-version-check -r "$req" &&
    "$1/bin/pip" install -q --disable-pip-version-check --no-deps "ansible==$community"
}

# The module-side unit tests on Python 3.6: pytest 7.0 and xdist 2.5 (the last for 3.6), PyYAML for
# the golden files, and ansible-core 2.16's module_utils (the newest core whose targets include
# 3.6) put in without its controller dependencies, which do not install on 3.6: only module_utils
# is imported.
PY36_CORE=2.16.19
PY36_TOOLS="pytest==7.0.1 pytest-xdist==2.5.0 PyYAML==6.0.1"
py36_venv() {
  local py want
  py=$(find_python 3.6) || return 1
  want=$( (echo "pip==21.3.1 $PY36_TOOLS ansible-core==$PY36_CORE"; "$py" --version 2>&1) | sha256sum | cut -d' ' -f1)
  cached_venv py36 "$want" "$py" "module_utils of ansible-core $PY36_CORE" install_py36
}

# 3.6's bundled pip predates the manylinux2014 wheels: 21.3.1 is the last pip for 3.6.
# shellcheck disable=SC2317  # called by name from cached_venv
install_py36() {
  # shellcheck disable=SC2086  # the tool pins, one word each
  "$1/bin/python" -m pip install -q --disable-pip-version-check pip==21.3.1 &&
    "$1/bin/pip" install -q --disable-pip-version-check $PY36_TOOLS &&
    "$1/bin/pip" install -q --disable-pip-version-check --no-deps --ignore-requires-python "ansible-core==$PY36_CORE"
}

mapfile -t rows < <(sed 's/#.*//' "$table" | awk 'NF == 3')
case $pick in
  all) chosen=("${rows[@]}") ;;
  edges) chosen=("${rows[0]}" "${rows[${#rows[@]}-1]}") ;;
  none) chosen=() ;;
  *) chosen=()
     for want in ${pick//,/ }; do
       found=0
       for row in "${rows[@]}"; do
         case $row in "$want".*|"$want "*) chosen+=("$row"); found=1 ;; esac
       done
       [ $found = 1 ] || { echo "core-matrix: $want is not in $table" >&2; exit 2; }
     done ;;
esac

declare -a report=()
failed=0
record() {
  report+=("$(printf '%-10s %-7s %-8s %5ss  %s' "$1" "$2" "$3" "$4" "$5")")
  case $5 in ok|"ok "*) ;; *) failed=1 ;; esac
}

for row in "${chosen[@]}"; do
  read -r core pyv community <<< "$row"
  venv=$(core_venv "$core" "$pyv" "$community")
  if [ $venvs_only = 1 ]; then echo "$core $venv"; continue; fi
  minor=${core%.*}
  if [[ ,$steps, == *,units,* ]]; then
    log "unit tests on ansible-core $core (Python $pyv)"
    start=$SECONDS
    if PATH=$venv/bin:$PATH "$venv/bin/python" -m pytest -q -p no:cacheprovider -n 2 tests/unit > "$top/.tmp/matrix/units-$core.log" 2>&1
    then result=ok; else result="FAILED (.tmp/matrix/units-$core.log)"; tail -n 40 "$top/.tmp/matrix/units-$core.log"; fi
    record "$minor" "$pyv" units $((SECONDS - start)) "$result — $(tail -n 1 "$top/.tmp/matrix/units-$core.log" | tr -d '=')"
  fi
  if [[ ,$steps, == *,sanity,* ]]; then
    log "ansible-test sanity on ansible-core $core (Python $pyv)"
    start=$SECONDS
    if PATH=$venv/bin:$PATH SANITY_VENV=$venv SANITY_DIR=$top/.tmp/matrix/sanity-$minor scripts/sanity.sh > "$top/.tmp/matrix/sanity-$core.log" 2>&1
    then result=ok; else result="FAILED (.tmp/matrix/sanity-$core.log)"; tail -n 40 "$top/.tmp/matrix/sanity-$core.log"; fi
    record "$minor" "$pyv" sanity $((SECONDS - start)) "$result"
  fi
done

if [ $py36 = 1 ] && [ $venvs_only = 0 ]; then
  venv=$(py36_venv)
  log "module and module_utils unit tests on Python 3.6"
  start=$SECONDS
  if "$venv/bin/python" -m pytest -q -p no:cacheprovider -n 2 -m 'not controller' tests/unit/plugins/modules tests/unit/plugins/module_utils \
       > "$top/.tmp/matrix/units-py36.log" 2>&1
  then result=ok; else result="FAILED (.tmp/matrix/units-py36.log)"; tail -n 40 "$top/.tmp/matrix/units-py36.log"; fi
  record "2.16" "3.6" "units" $((SECONDS - start)) "$result — $(tail -n 1 "$top/.tmp/matrix/units-py36.log" | tr -d '=')"
fi

if [ ${#report[@]} -gt 0 ]; then
  printf '\n[matrix] core       python  step      time  result\n'
  printf '[matrix] %s\n' "${report[@]}"
fi
exit $failed
