#!/usr/bin/env bash
# The collection as Galaxy and the docs site see it: the tarball built, checked to carry no
# developer file, imported by galaxy-importer (Galaxy's upload check) and its documentation linted by
# `antsibull-docs lint-collection-docs --plugin-docs`. The validators live in their own virtualenv.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
req=$top/scripts/validators/requirements.txt
want=$( (cat "$req"; python3 --version) | sha256sum | cut -d' ' -f1)
venv=$top/.tmp/validators
# As root, kept in the machine's cache by the hash, like .venv (scripts/setup.sh).
cache=${CSKL_VENV_CACHE:-/var/cache/cloudstack-kvm-lab/venvs}
if [ "$(id -u)" = 0 ] && mkdir -p "$cache" 2>/dev/null; then
  venv=$cache/validators-${want:0:16}
  exec 9> "$cache/.lock"
  flock 9
fi
mkdir -p "$top/.tmp"
if [ ! -x "$venv/bin/python" ] || [ "$want" != "$(cat "$venv/.requirements" 2>/dev/null)" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$req" > "$top/.tmp/validators-pip.log" 2>&1 ||
    { cat "$top/.tmp/validators-pip.log"; exit 1; }
  echo "$want" > "$venv/.requirements"
fi
exec 9>&-   # the lock (when taken) is not held while the validators run
work=$top/.tmp/validate
rm -rf "$work"; mkdir -p "$work"
"$venv/bin/ansible-galaxy" collection build --output-path "$work" --force "$top" > /dev/null
tarball=$(ls "$work"/cloudstack_kvm-networking-*.tar.gz)

# Files that only work in a checkout (the Makefile's scripts, the lab) stay out of the tarball.
dev=$(tar -tzf "$tarball" | grep -E '^(Makefile|ansible\.cfg|requirements-dev\.txt|bindep\.txt|\.ansible-lint|\.hypothesis/|\.pytest_cache/|scripts/|lab/|molecule/|bench/|tests/lab/)' || true)
if [ -n "$dev" ]; then
  echo "the tarball carries developer files (add them to build_ignore in galaxy.yml):"; echo "$dev"; exit 1
fi

(cd "$work" && PATH="$venv/bin:$PATH" GALAXY_IMPORTER_CONFIG=$top/scripts/validators/galaxy-importer.cfg \
   "$venv/bin/python" -m galaxy_importer.main "$tarball") > "$work/galaxy-importer.log" 2>&1 ||
  { tail -n 40 "$work/galaxy-importer.log"; echo "galaxy-importer failed (log: $work/galaxy-importer.log)"; exit 1; }
if ! grep -q 'Importer processing completed successfully' "$work/galaxy-importer.log" ||
   grep -E '^ERROR' "$work/galaxy-importer.log"; then
  echo "galaxy-importer did not accept the collection (log: $work/galaxy-importer.log)"; exit 1
fi
echo "galaxy-importer: accepted ($(grep -c '^WARNING' "$work/galaxy-importer.log") warnings, in $work/galaxy-importer.log)"

# antsibull-docs resolves the references to other collections: the PyPI ansible package's, in .venv.
deps=$("$top/.venv/bin/python" -c 'import ansible_collections, os; print(os.path.dirname(list(ansible_collections.__path__)[0]))')
if ! PATH="$venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$top/.tmp/collections:$deps" \
    "$venv/bin/antsibull-docs" lint-collection-docs --plugin-docs \
    "$top/.tmp/collections/ansible_collections/cloudstack_kvm/networking" > "$work/antsibull-docs.log" 2>&1; then
  grep -v -i 'cryptography' "$work/antsibull-docs.log"; echo "antsibull-docs lint-collection-docs found problems"; exit 1
fi
echo "antsibull-docs lint-collection-docs --plugin-docs: clean"
