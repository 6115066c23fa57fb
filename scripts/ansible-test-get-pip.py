# Stand-in for the get-pip.py bootstrap ansible-test downloads from ci-files.testing.ansible.com,
# which this environment cannot reach. ansible-test runs it with pip's install arguments in an
# empty virtualenv; we bootstrap the interpreter's bundled pip (ensurepip) and let that pip
# install the requested versions from the configured package index.
import ensurepip
import os
import subprocess
import sys

GET_PIP_ONLY = ('--no-setuptools', '--no-wheel')

# ensurepip sets PIP_CONFIG_FILE=/dev/null in our environment and leaves it there; the install
# below must see the machine's pip configuration (index, certificates), so keep a clean copy.
environ = dict(os.environ)
ensurepip.bootstrap(upgrade=True)
args = [a for a in sys.argv[1:] if a not in GET_PIP_ONLY]
sys.exit(subprocess.call([sys.executable, '-m', 'pip', 'install'] + args, env=environ))
