"""Stand-ins for what rewrites agent.properties besides the collection, run on a lab host.

  agent-rewrite FILE   as the agent's PropertiesStorage.persist does: java.util.Properties.store
                       (comments and blank lines dropped, a date comment first, ':' '=' '#' '!'
                       escaped) with the management server list reordered, as the agent does for
                       its load balancing algorithm.
  setup-agent FILE K=V ...
                       as cloudstack-setup-agent's configFileOps.save does: a line matching
                       ^\\ *KEY.* is replaced by KEY=V (so "host" also replaces host.lb.check.interval),
                       other keys are appended.
"""
import re
import sys
import time


def load(path):
    props = {}
    with open(path, encoding='latin-1') as fh:
        for line in fh:
            line = line.strip()
            if not line or line[0] in '#!' or '=' not in line:
                continue
            key, value = line.split('=', 1)
            props[key.strip()] = value.strip().replace('\\:', ':').replace('\\=', '=')
    return props


def escape(text):
    return re.sub(r'([:=#!])', r'\\\1', text)


def agent_rewrite(path):
    props = load(path)
    hosts, sep, algorithm = props.get('host', '').partition('@')
    if sep:
        props['host'] = ','.join(reversed(hosts.split(','))) + '@' + algorithm
    with open(path, 'w', encoding='latin-1') as fh:
        fh.write('#Storage\n#%s\n' % time.strftime('%a %b %d %H:%M:%S UTC %Y', time.gmtime()))
        for key in sorted(props, reverse=True):
            fh.write('%s=%s\n' % (escape(key), escape(props[key])))


def setup_agent(path, pairs):
    with open(path, encoding='latin-1') as fh:
        text = fh.read()
    for pair in pairs:
        key, value = pair.split('=', 1)
        lines = text.split('\n')
        hits = [i for i, line in enumerate(lines) if re.match(r'^\ *' + key + '.*', line)]
        if hits:
            for i in hits:
                lines[i] = '\n%s=%s\n' % (key, value)
            text = '\n'.join(lines)
        else:
            text += '%s=%s\n' % (key, value)
    with open(path, 'w', encoding='latin-1') as fh:
        fh.write(text)


if __name__ == '__main__':
    if sys.argv[1] == 'agent-rewrite':
        agent_rewrite(sys.argv[2])
    else:
        setup_agent(sys.argv[2], sys.argv[3:])
