#!/usr/bin/env bash
# ansible-test sanity on a copy of the checkout placed under ansible_collections/cloudstack_kvm/
# networking (ansible-test needs that layout). Tracked and new-but-not-ignored files are copied,
# so it checks what would be committed. Extra arguments go to ansible-test (e.g. --test pep8).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
root=$top/.tmp/sanity/ansible_collections/cloudstack_kvm/networking
rm -rf "$top/.tmp/sanity"
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
pip_version=$("$top/.venv/bin/python" - <<'PY'
import re, ansible_test, os
src = open(os.path.join(os.path.dirname(ansible_test.__file__), '_internal', 'python_requirements.py')).read()
print(re.search(r"pip='([0-9.]+)'", src).group(1))
PY
)
cache=~/.ansible/test/cache/get_pip_${pip_version//./_}.py
mkdir -p "$(dirname "$cache")"
cmp -s "$top/scripts/ansible-test-get-pip.py" "$cache" || cp "$top/scripts/ansible-test-get-pip.py" "$cache"
py=$("$top/.venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
exec "$top/.venv/bin/ansible-test" sanity --color no --python "$py" --requirements "$@"
