#!/usr/bin/env bash
# ansible-test sanity on a copy of the checkout placed under ansible_collections/cloudstack_kvm/
# networking (ansible-test needs that layout). Tracked and new-but-not-ignored files are copied,
# so it checks what would be committed. Extra arguments go to ansible-test (e.g. --test pep8).
# SANITY_VENV names another virtualenv (scripts/core-matrix.sh: another ansible-core), SANITY_DIR
# another scratch directory for the copy.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
venv=${SANITY_VENV:-$top/.venv}
scratch=${SANITY_DIR:-$top/.tmp/sanity}
root=$scratch/ansible_collections/cloudstack_kvm/networking
rm -rf "$scratch"
mkdir -p "$root"
cd "$top"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] && printf '%s\0' "$f"
done | rsync -a --from0 --files-from=- ./ "$root/"
cd "$root"
# ansible-test lists the collection's files with git when a repository is present.
git init -q . && git add -A >/dev/null
# ansible-test bootstraps pip in its per-test virtualenvs with a script it downloads from a host
# we cannot reach: give it our stand-in under the name it caches that script as.
pip_version=$("$venv/bin/python" - <<'PY'
import re, ansible_test, os
src = open(os.path.join(os.path.dirname(ansible_test.__file__), '_internal', 'python_requirements.py')).read()
print(re.search(r"pip='([0-9.]+)'", src).group(1))
PY
)
cache=~/.ansible/test/cache/get_pip_${pip_version//./_}.py
mkdir -p "$(dirname "$cache")"
cmp -s "$top/scripts/ansible-test-get-pip.py" "$cache" || cp "$top/scripts/ansible-test-get-pip.py" "$cache"
py=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
exec "$venv/bin/ansible-test" sanity --color no --python "$py" --requirements "$@"
