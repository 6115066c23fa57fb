# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Java properties parser/editor, checked against what java.util.Properties itself did.

``fixtures/properties/cases/*.json`` were recorded with ``PropsOracle.java`` (Java 17's
``Properties.load``), so every parse assertion here is against the real Java reader.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import io
import json
import os

import pytest

from ansible_collections.cloudstack_kvm.networking.plugins.module_utils._cloudstack.properties import (
    PropertiesError,
    PropertiesFile,
    escape_key,
    escape_value,
    format_line,
    loads,
    parse,
    unescape,
)


CASES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'modules', 'fixtures',
                     'properties', 'cases')


def _read(path):
    with io.open(path, 'rb') as f:
        return f.read().decode('latin-1')


def _java(name):
    with io.open(os.path.join(CASES, name + '.json'), encoding='ascii') as f:
        return json.load(f)


CASE_NAMES = sorted(os.path.basename(p)[:-len('.properties')] for p in glob.glob(os.path.join(CASES, '*.properties')))


def test_there_are_recorded_cases():
    assert len(CASE_NAMES) >= 10


@pytest.mark.parametrize('name', CASE_NAMES)
def test_parse_matches_java(name):
    text = _read(os.path.join(CASES, name + '.properties'))
    assert loads(text) == _java(name)


@pytest.mark.parametrize('name', CASE_NAMES)
def test_roundtrip_is_byte_exact(name):
    text = _read(os.path.join(CASES, name + '.properties'))
    assert parse(text).dumps() == text


@pytest.mark.parametrize('text, key, value', [
    ('a\\=b=c\n', 'a=b', 'c'),
    ('key:value\n', 'key', 'value'),
    ('key value\n', 'key', 'value'),
    ('  key  =  value  \n', 'key', 'value  '),
    ('key = = x\n', 'key', '= x'),
    ('key\\ with\\ space = v\n', 'key with space', 'v'),
    ('u=\\u00e9\n', 'u', u'\u00e9'),
    ('m = one, \\\n    two\n', 'm', 'one, two'),
    ('k=v\\\\\n', 'k', 'v\\'),
    ('bare\n', 'bare', ''),
    ('k=a\\\n# still value\n', 'k', 'a# still value'),
])
def test_parse_single(text, key, value):
    assert loads(text) == {key: value}


@pytest.mark.parametrize('text', ['! bang\n', '# hash\n', '   # indented\n', '\n', '  \t \n', ''])
def test_comments_and_blanks_are_not_properties(text):
    pf = parse(text)
    assert pf.as_dict() == {}
    assert pf.dumps() == text


def test_comment_does_not_continue():
    assert loads('# comment \\\nkey=v\n') == {'key': 'v'}


def test_duplicate_last_wins():
    pf = parse('dup=1\nother=x\ndup=2\n')
    assert pf.get('dup') == '2'
    assert pf.keys() == ['other', 'dup']


@pytest.mark.parametrize('bad', ['k=\\u12\n', 'k=\\uzzzz\n', 'k\\u00=v\n'])
def test_malformed_unicode_escape_is_an_error(bad):
    with pytest.raises(PropertiesError) as exc:
        parse('ok=1\n' + bad)
    assert 'line 2' in str(exc.value)
    assert 'malformed' in str(exc.value)


def test_unescape_surrogate_pair_is_one_character():
    assert unescape('\\ud83d\\ude00') == u'\U0001F600'


@pytest.mark.parametrize('key, expected', [
    ('plain.key', 'plain.key'),
    ('a=b', 'a\\=b'),
    ('a:b', 'a\\:b'),
    ('a b', 'a\\ b'),
    ('#x', '\\#x'),
    ('!x', '\\!x'),
    ('x#', 'x#'),
    (u'\u00e9', '\\u00E9'),
])
def test_escape_key(key, expected):
    assert escape_key(key) == expected


@pytest.mark.parametrize('value, expected', [
    ('plain', 'plain'),
    ('10.0.0.1,2001:db8::1@roundrobin', '10.0.0.1,2001:db8::1@roundrobin'),
    (' lead', '\\ lead'),
    ('mid space', 'mid space'),
    ('back\\slash', 'back\\\\slash'),
    ('a\tb\nc', 'a\\tb\\nc'),
    (u'\U0001F600', '\\uD83D\\uDE00'),
])
def test_escape_value(value, expected):
    assert escape_value(value) == expected


@pytest.mark.parametrize('key, value', [
    ('a=b', 'c'), ('sp key', ' lead and trail '), ('#hash', '!bang'), ('k', 'C:\\dir\\'),
    ('t\tk', 'l1\nl2\r\f'), ('u', u'\u00e9t\u00e9 \U0001F600'), ('e', ''),
])
def test_format_line_roundtrips(key, value):
    assert loads(format_line(key, value) + '\n') == {key: value}


def test_written_by_python_matches_java():
    # cases/written_by_python.properties was produced by format_line and read back by Java.
    text = _read(os.path.join(CASES, 'written_by_python.properties'))
    expected = _java('written_by_python')
    pf = PropertiesFile()
    for key in sorted(expected):
        pf.set(key, expected[key])
    assert loads(pf.dumps()) == expected
    assert sorted(pf.dumps().splitlines()) == sorted(text.splitlines())


# --- editing --------------------------------------------------------------------------------

EDIT_CASES = [
    # (description, text, operations, expected text)
    ('change keeps separator style', 'a = 1\nb:2\nc 3\n', [('set', 'a', 'x'), ('set', 'b', 'y'), ('set', 'c', 'z')],
     'a = x\nb:y\nc z\n'),
    ('change keeps comments and order', '# head\nx=1\n\n! note\ny=2\n', [('set', 'x', '9')],
     '# head\nx=9\n\n! note\ny=2\n'),
    ('new key is appended', '# c\nx=1\n', [('set', 'new.key', 'v')], '# c\nx=1\nnew.key=v\n'),
    ('new key after file without final newline', 'x=1', [('set', 'y', '2')], 'x=1\ny=2\n'),
    ('new key after dangling continuation at EOF', 'x=1\\', [('set', 'y', '2')], 'x=1\ny=2\n'),
    ('new key after dangling continuation and newline at EOF', 'x=1\\\n', [('set', 'y', '2')], 'x=1\ny=2\n'),
    ('new key after a blank-terminated continuation', 'x=1\\\n\n', [('set', 'y', '2')], 'x=1\\\n\ny=2\n'),
    ('new key after comment without newline', '# c', [('set', 'y', '2')], '# c\ny=2\n'),
    ('continuation collapses', 'm = a, \\\n   b\nz=1\n', [('set', 'm', 'c')], 'm = c\nz=1\n'),
    ('unset removes every definition', 'd=1\nk=v\nd=2\n', [('unset', 'd', None)], 'k=v\n'),
    ('unset removes continuation lines', 'm = a, \\\n   b\nz=1\n', [('unset', 'm', None)], 'z=1\n'),
    ('set removes shadowed duplicates', 'd=1\nk=v\nd=2\n', [('set', 'd', '3')], 'k=v\nd=3\n'),
    ('key without value gets a separator', 'bare\n', [('set', 'bare', 'v')], 'bare=v\n'),
    ('key with trailing space keeps it as separator', 'bare   \n', [('set', 'bare', 'v')], 'bare   v\n'),
    ('escaped key keeps its spelling', 'a\\=b = 1\n', [('set', 'a=b', '2')], 'a\\=b = 2\n'),
    ('key split over lines is rewritten plainly', 'ke\\\n  y=1\n', [('set', 'key', '2')], 'key=2\n'),
    ('crlf kept for changed and new lines', 'a=1\r\nb=2\r\n', [('set', 'a', 'x'), ('set', 'c', '3')],
     'a=x\r\nb=2\r\nc=3\r\n'),
    ('value escapes applied', 'a=1\n', [('set', 'a', ' lead\\')], 'a=\\ lead\\\\\n'),
    ('unicode value escaped', '', [('set', 'n', u'\u00e9')], 'n=\\u00E9\n'),
    ('indent preserved', '   a = 1\n', [('set', 'a', '2')], '   a = 2\n'),
]


@pytest.mark.parametrize('desc, text, ops, expected', EDIT_CASES, ids=[c[0] for c in EDIT_CASES])
def test_edit(desc, text, ops, expected):
    pf = parse(text)
    for op, key, value in ops:
        changed = pf.set(key, value) if op == 'set' else pf.unset(key)
        assert changed is True
    assert pf.dumps() == expected
    wanted = loads(text)
    for op, key, value in ops:
        if op == 'set':
            wanted[key] = value
        else:
            wanted.pop(key, None)
    assert loads(pf.dumps()) == wanted


@pytest.mark.parametrize('text, key, value', [
    ('a=1\n', 'a', '1'),
    ('a = 1\n', 'a', '1'),
    ('a = \\\n  1\n', 'a', '1'),
    ('d=0\nd=1\n', 'd', '1'),     # same effective value: the shadowed line stays, nothing changes
    ('u=\\u00e9\n', 'u', u'\u00e9'),
])
def test_set_same_value_is_noop(text, key, value):
    pf = parse(text)
    assert pf.set(key, value) is False
    assert pf.dumps() == text


def test_unset_missing_is_noop():
    pf = parse('a=1\n')
    assert pf.unset('b') is False
    assert pf.dumps() == 'a=1\n'


def test_set_rejects_non_string():
    with pytest.raises(TypeError):
        parse('').set('a', 1)


def test_agent_store_output_is_read_semantically():
    # The agent's Properties.store escapes ':' in values; the value is the same.
    pf = parse(_read(os.path.join(CASES, 'agent_persisted.properties')))
    assert pf.get('host') == 'ms1.example.org,10.0.0.2,2001:db8::10@roundrobin'
    assert pf.set('host', 'ms1.example.org,10.0.0.2,2001:db8::10@roundrobin') is False
