# -*- coding: utf-8 -*-
# Copyright: contributors to cloudstack_kvm.networking
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is for this collection's own modules and plugins only; its API
# may change without notice.
"""Java ``.properties`` files, read the way ``java.util.Properties.load`` reads them, edited in place.

Pure Python, no I/O. ``PropertiesFile.parse(text)`` keeps every physical line, so ``dumps()``
gives back the input byte for byte; ``set()`` rewrites only the logical line of the key it
changes and ``unset()`` removes the key's lines. Comments, blank lines, order, separators and
escapes of untouched lines are preserved.

The rules followed (those of ``java.util.Properties.load(Reader)``):

* lines end with ``\\n``, ``\\r`` or ``\\r\\n``; a line whose content ends with an odd number of
  backslashes continues on the next line, whose leading white space is dropped; a blank line
  after a continuation ends the logical line;
* leading white space (space, tab, form feed) is ignored; a line whose first other character is
  ``#`` or ``!`` is a comment (comments never continue); blank lines are ignored;
* the key ends at the first unescaped ``=``, ``:`` or white space; white space around the
  separator is skipped, and at most one ``=``/``:`` after white space belongs to the separator;
* escapes: ``\\uXXXX``, ``\\t``, ``\\n``, ``\\r``, ``\\f``; a backslash before any other
  character stands for that character; a malformed ``\\uXXXX`` is an error (as in Java);
* the same key given twice: the last one wins.

Files are read by the CloudStack agent as ISO-8859-1 (``Properties.load(InputStream)``), so a
caller decodes bytes with ``latin-1`` (which round-trips every byte) and new lines written here
escape every character outside printable ASCII as ``\\uXXXX``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
from collections import namedtuple

_WS = ' \t\f'
_LINE_RE = re.compile(r'([^\r\n]*)(\r\n|\r|\n|$)')
# Java's letter escapes: the letter after the backslash and the character it stands for.
_LETTER_ESCAPES = (('t', '\t'), ('n', '\n'), ('r', '\r'), ('f', '\f'))
_UNESCAPED = dict(_LETTER_ESCAPES)
# What a written key or value escapes always: the backslash itself and the letter escapes.
_ESCAPED = dict((char, '\\' + letter) for letter, char in _LETTER_ESCAPES + (('\\', '\\'),))


class PropertiesError(Exception):
    """A text that java.util.Properties would refuse (malformed \\uXXXX escape)."""

    def __init__(self, message, lineno=None):
        self.lineno = lineno
        if lineno is not None:
            message = 'line %d: %s' % (lineno, message)
        super(PropertiesError, self).__init__(message)


def unescape(text, lineno=None):
    """Java's ``loadConvert``: resolve backslash escapes of a key or value."""
    out = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        i += 1
        if c != '\\':
            out.append(c)
            continue
        if i >= n:
            # A lone trailing backslash (only possible at end of file): Java drops it.
            break
        c = text[i]
        i += 1
        if c == 'u':
            digits = text[i:i + 4]
            if len(digits) < 4 or not re.match(r'^[0-9a-fA-F]{4}$', digits):
                raise PropertiesError('malformed \\uxxxx escape %r' % ('\\u' + digits), lineno)
            out.append(chr(int(digits, 16)))
            i += 4
        else:
            # A letter escape stands for its control character; a backslash before any other
            # character stands for that character.
            out.append(_UNESCAPED.get(c, c))
    return _join_surrogates(''.join(out))


def _join_surrogates(text):
    """``\\ud83d\\ude00`` (Java's UTF-16 escapes of one code point) becomes one character."""
    if not re.search(u'[\ud800-\udbff][\udc00-\udfff]', text):
        return text
    return re.sub(u'([\ud800-\udbff])([\udc00-\udfff])',
                  lambda m: chr(0x10000 + ((ord(m.group(1)) - 0xD800) << 10) + (ord(m.group(2)) - 0xDC00)),
                  text)


def _escape_char(c):
    code = ord(c)
    if code > 0xFFFF:
        code -= 0x10000
        return '\\u%04X\\u%04X' % (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF))
    return '\\u%04X' % code


def _escape(text, is_key):
    out = []
    for pos, c in enumerate(text):
        if c in _ESCAPED:
            out.append(_ESCAPED[c])
        elif c == ' ' and (is_key or pos == 0):
            out.append('\\ ')
        elif is_key and c in '=:':
            out.append('\\' + c)
        elif is_key and pos == 0 and c in '#!':
            out.append('\\' + c)
        elif ord(c) < 0x20 or ord(c) > 0x7E:
            out.append(_escape_char(c))
        else:
            out.append(c)
    return ''.join(out)


def escape_key(key):
    """A key as it must be written so that Properties.load reads it back unchanged."""
    return _escape(key, True)


def escape_value(value):
    """A value as it must be written (leading space, backslashes, control and non-ASCII escaped)."""
    return _escape(value, False)


def format_line(key, value):
    """``key=value`` with the escapes needed, without line terminator."""
    return '%s=%s' % (escape_key(key), escape_value(value))


def _split_physical(text):
    """Physical lines as (content, terminator) pairs; the last may have an empty terminator."""
    lines = []
    pos = 0
    n = len(text)
    while pos < n:
        m = _LINE_RE.match(text, pos)
        lines.append((m.group(1), m.group(2)))
        pos = m.end()
    return lines


def _trailing_backslashes(content):
    return len(content) - len(content.rstrip('\\'))


def _split_key_value(line):
    """Java's key/value split of one logical line: (raw_key, value_start, has_separator)."""
    n = len(line)
    key_len = 0
    value_start = n
    has_sep = False
    preceding_backslash = False
    while key_len < n:
        c = line[key_len]
        if c in '=:' and not preceding_backslash:
            value_start = key_len + 1
            has_sep = True
            break
        if c in _WS and not preceding_backslash:
            value_start = key_len + 1
            break
        preceding_backslash = (not preceding_backslash) if c == '\\' else False
        key_len += 1
    while value_start < n:
        c = line[value_start]
        if c not in _WS:
            if not has_sep and c in '=:':
                has_sep = True
            else:
                break
        value_start += 1
    return key_len, value_start, has_sep


class Entry(namedtuple('Entry', 'kind raw lineno key value prefix terminator dangling')):
    """One element of the file: a comment, a blank line, or one (possibly continued) property.

    ``raw`` is the exact text of the element including line terminators; ``key``/``value`` are
    the parsed strings for a property and None otherwise. ``prefix`` is the text of the first
    physical line up to where the value starts (indent, key as written, separator) when the whole
    prefix lies on that line, so a rewrite keeps the author's key spelling and separator style.
    An entry is a value: an edit puts a new one in its place (``_replace``).
    """

    __slots__ = ()

    def __repr__(self):
        return 'Entry(%s, %r)' % (self.kind, self.raw)


# A comment or blank line gives kind, raw and lineno only (namedtuple's defaults= is Python 3.7+).
Entry.__new__.__defaults__ = (None, None, None, '', False)


class PropertiesFile(object):
    """A parsed properties text that can be edited and dumped back."""

    def __init__(self, entries=None, newline='\n'):
        self.entries = list(entries or [])
        self.newline = newline

    @classmethod
    def parse(cls, text):
        lines = _split_physical(text)
        newline = '\n'
        for dummy, term in lines:
            if term:
                newline = term
                break
        entries = []
        i = 0
        while i < len(lines):
            content, term = lines[i]
            lineno = i + 1
            stripped = content.lstrip(_WS)
            if not stripped:
                entries.append(Entry('blank', content + term, lineno, terminator=term))
                i += 1
                continue
            if stripped[0] in '#!':
                entries.append(Entry('comment', content + term, lineno, terminator=term))
                i += 1
                continue
            raw = [content + term]
            logical = stripped
            first_indent = len(content) - len(stripped)
            first_len = len(stripped)
            last_term = term
            dangling = False
            i += 1
            while _trailing_backslashes(logical) % 2 == 1:
                logical = logical[:-1]
                if i >= len(lines) or not last_term:
                    # The file ends while the line asks to continue: Java drops the backslash.
                    dangling = True
                    break
                nxt, nterm = lines[i]
                raw.append(nxt + nterm)
                last_term = nterm
                i += 1
                nxt = nxt.lstrip(_WS)
                if not nxt:
                    break
                logical += nxt
            key_len, value_start, dummy = _split_key_value(logical)
            key = unescape(logical[:key_len], lineno)
            value = unescape(logical[value_start:], lineno)
            prefix = None
            if value_start <= first_len and (value_start < first_len or len(raw) == 1):
                prefix = content[:first_indent + value_start]
            entries.append(Entry('property', ''.join(raw), lineno, key, value, prefix, last_term, dangling))
        return cls(entries, newline)

    def dumps(self):
        return ''.join(e.raw for e in self.entries)

    def masked(self, is_secret, mask):
        """The text with the value of every property for which ``is_secret(key)`` holds replaced by
        ``mask(key)`` (a secret's continuation lines go with it): what a diff may show."""
        out = []
        for e in self.entries:
            if e.kind == 'property' and is_secret(e.key):
                prefix = e.prefix if e.prefix is not None else format_line(e.key, '')
                if not _has_separator(prefix):
                    prefix += '='
                out.append(prefix + mask(e.key) + e.terminator)
            else:
                out.append(e.raw)
        return ''.join(out)

    def _indexes(self, key):
        return [n for n, e in enumerate(self.entries) if e.kind == 'property' and e.key == key]

    def get(self, key, default=None):
        idx = self._indexes(key)
        return self.entries[idx[-1]].value if idx else default

    def __contains__(self, key):
        return bool(self._indexes(key))

    def keys(self):
        """Keys in the order of their effective (last) definition."""
        return list(self.as_dict().keys())

    def as_dict(self):
        result = {}
        order = []
        for e in self.entries:
            if e.kind != 'property':
                continue
            if e.key in result:
                order.remove(e.key)
            result[e.key] = e.value
            order.append(e.key)
        return dict((k, result[k]) for k in order)

    def set(self, key, value):
        """Give ``key`` the value ``value``; return True when the text changed.

        An existing key keeps its place: its last (effective) definition is rewritten on one line
        with the original key spelling and separator, and earlier, shadowed definitions of the
        same key are removed. A new key is appended at the end of the file.
        """
        if not isinstance(value, str):
            raise TypeError('property values are strings, got %r' % (value,))
        idx = self._indexes(key)
        if idx and self.entries[idx[-1]].value == value:
            # Same effective value: nothing changes for Java, shadowed duplicates stay untouched.
            return False
        if not idx:
            self._append(Entry('property', format_line(key, value) + self.newline, None, key, value,
                               format_line(key, ''), self.newline))
            return True
        last_index = idx[-1]
        last = self.entries[last_index]
        prefix = last.prefix
        if prefix is None:
            prefix = format_line(key, '')
        elif not _has_separator(prefix):
            prefix += '='
        term = last.terminator
        if not term and last_index < len(self.entries) - 1:
            term = self.newline
        self.entries[last_index] = Entry('property', prefix + escape_value(value) + term, last.lineno,
                                         key, value, prefix, term)
        for n in reversed(idx[:-1]):
            del self.entries[n]
        return True

    def _append(self, entry):
        if not self.entries:
            self.entries.append(entry)
            return
        last = self.entries[-1]
        if last.kind == 'property' and last.dangling:
            # A continuation backslash at the end of the file means nothing to Java; followed by
            # another line it would swallow the appended property, so it goes.
            body = last.raw[:len(last.raw) - len(last.terminator)]
            self.entries[-1] = last._replace(raw=body[:-1] + self.newline, terminator=self.newline, dangling=False)
        elif not last.raw.endswith(('\n', '\r')):
            self.entries[-1] = last._replace(raw=last.raw + self.newline, terminator=self.newline)
        self.entries.append(entry)

    def unset(self, key):
        """Remove every definition of ``key``; return True when the text changed."""
        idx = self._indexes(key)
        for n in reversed(idx):
            del self.entries[n]
        return bool(idx)


def _has_separator(prefix):
    """True when the key/value prefix of a line already ends in a separator (=, : or space)."""
    body = prefix.lstrip(_WS)
    key_len, value_start, has_sep = _split_key_value(body + 'x')
    return has_sep or value_start > key_len


def parse(text):
    """Shortcut for ``PropertiesFile.parse``."""
    return PropertiesFile.parse(text)


def loads(text):
    """The key -> value dict java.util.Properties would load from ``text``."""
    return PropertiesFile.parse(text).as_dict()
