#!/usr/bin/env python3
# convert-fixtures.py: turn ruby/net-imap's response parser fixtures into
# ours, checked against the Ruby expectations.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   tests/data/imap/convert-fixtures.py RUBY_NET_IMAP_DIR IMAP_PARSE [OUT_DIR]
#
# For each test/net/imap/fixtures/response_parser/NAME.yml it writes
#   OUT_DIR/NAME.raw       the responses, as a server would send them
#   OUT_DIR/NAME.expected  what imap-parse prints for them, each preceded
#                          by "# <test name>"
# Responses net-imap must refuse go to OUT_DIR/errors.txt, one escaped
# response per line.
#
# The expected text is our parser's output, but only after it was compared
# with the Ruby structure the fixture expects: this script renders that
# structure in our canonical form and compares both, ignoring case (Ruby
# upper-cases media types, parameter names, capabilities and so on; we
# lower-case some of those). A mismatch stops the script unless the test is
# in DEVIATIONS, with the reason we differ. Needs PyYAML (python3-yaml);
# only for regenerating, never at test time.

import datetime
import glob
import os
import re
import subprocess
import sys

import yaml

# tests where we knowingly differ from net-imap, and why
DEVIATIONS = {
    'test_invalid_fetch_msg_att_unknown_fails':
        'unknown FETCH items are skipped generically (kept in "extra"), not refused',
    'test_invalid_noop_response_with_unparseable_data':
        'unknown responses keep their values generically',
    'test_invalid_noop_response_with_numeric_prefix_and_unparseable_data':
        'unknown responses keep their values generically',
    'test_imaginary_status_response_using_tagged-ext-val':
        'unknown STATUS items are skipped',
    'rfc8474_example_4.3_MAILBOXID_attribute_for_STATUS':
        'unknown STATUS items are skipped',
    'rfc9208_4.1.4_example':
        'unknown STATUS items (DELETED-STORAGE) are skipped',
}

KNOWN_CODES = {
    'ALERT', 'ALREADYEXISTS', 'APPENDUID', 'AUTHENTICATIONFAILED', 'AUTHORIZATIONFAILED',
    'BADCHARSET', 'CANNOT', 'CAPABILITY', 'CLIENTBUG', 'CLOSED', 'CONTACTADMIN', 'COPYUID',
    'CORRUPTION', 'EXPIRED', 'EXPUNGEISSUED', 'HASCHILDREN', 'HIGHESTMODSEQ', 'INUSE', 'LIMIT',
    'MODIFIED', 'NOMODSEQ', 'NONEXISTENT', 'NOPERM', 'OVERQUOTA', 'PARSE', 'PERMANENTFLAGS',
    'PRIVACYREQUIRED', 'READ-ONLY', 'READ-WRITE', 'SERVERBUG', 'TRYCREATE', 'UIDNEXT',
    'UIDNOTSTICKY', 'UIDVALIDITY', 'UNAVAILABLE', 'UNKNOWN-CTE', 'UNSEEN', 'COMPRESSIONACTIVE',
    'NOTSAVED', 'REFERRAL',
}
STRV_CODES = {'CAPABILITY', 'PERMANENTFLAGS', 'BADCHARSET'}
NUMBER_CODES = {'UIDVALIDITY', 'UIDNEXT', 'UNSEEN', 'HIGHESTMODSEQ'}


class Loader(yaml.SafeLoader):
    pass


def ruby_object(loader, suffix, node):
    if isinstance(node, yaml.MappingNode):
        d = dict(loader.construct_mapping(node, deep=True))
    elif isinstance(node, yaml.SequenceNode):
        d = {'__seq__': loader.construct_sequence(node, deep=True)}
    else:
        d = {'__scalar__': loader.construct_scalar(node)}
    d['__class__'] = suffix.split(':')[-1]
    return d


Loader.add_multi_constructor('!ruby/', ruby_object)
Loader.add_constructor('!binary', lambda loader, node:
                       __import__('base64').b64decode(loader.construct_scalar(node)))


def cls(o):
    return o.get('__class__') if isinstance(o, dict) else None


# our canonical text form (see lb_imap_response_to_string)

def quote(s):
    if s is None:
        return 'NIL'
    if isinstance(s, bytes):
        try:
            s = s.decode('utf-8')
        except UnicodeDecodeError:
            s = ''.join(chr(c) if c < 0x80 else '\\x%02x' % c for c in s)
    special = {'"': '\\"', '\\': '\\\\', '\r': '\\r', '\n': '\\n', '\t': '\\t'}
    out = []
    for c in s:
        if c in special:
            out.append(special[c])
        elif ord(c) < 0x20 or ord(c) == 0x7f:
            out.append('\\x%02x' % ord(c))
        else:
            out.append(c)
    return '"' + ''.join(out) + '"'


def flag(f):
    if isinstance(f, str) and f.startswith(':'):
        return '\\' + f[1:]
    return f


def strv(items):
    if items is None:
        return 'NIL'
    return '(' + ' '.join(quote(flag(i)) for i in items) + ')'


def seqset(o):
    if o is None:
        return 'NIL'
    if cls(o) == 'SequenceSet':
        return o['string']
    return str(o)


def utf7_decode(name):
    out = []
    i = 0
    while i < len(name):
        c = name[i]
        if c != '&':
            out.append(c)
            i += 1
            continue
        j = name.index('-', i)
        if j == i + 1:
            out.append('&')
        else:
            b64 = name[i + 1:j].replace(',', '/')
            b64 += '=' * (-len(b64) % 4)
            out.append(__import__('base64').b64decode(b64).decode('utf-16-be'))
        i = j + 1
    return ''.join(out)


def mailbox_lines(raw):
    if raw.upper() == 'INBOX':
        decoded = 'INBOX'
    else:
        try:
            decoded = utf7_decode(raw) if all(ord(c) < 0x80 for c in raw) else raw
        except Exception:
            decoded = raw
    lines = ['  mailbox: ' + quote(decoded)]
    if decoded != raw:
        lines.append('  raw-mailbox: ' + quote(raw))
    return lines


def generic(v):
    if v is None:
        return 'NIL'
    if isinstance(v, bool):
        raise ValueError('bool')
    if isinstance(v, int):
        return str(v)
    if isinstance(v, (str, bytes)):
        return quote(v)
    if isinstance(v, list):
        return '(' + ' '.join(generic(x) for x in v) + ')'
    if cls(v) == 'SequenceSet':
        return v['string']
    raise ValueError('generic %r' % (v,))


def code_line(code):
    if code is None:
        return []
    name = code['name'].upper()
    data = code.get('data')
    if cls(data) == 'InvalidParseData':
        text = data.get('unparsed_data')
        prefix = name if name in KNOWN_CODES and name not in ('COPYUID', 'APPENDUID') else 'other ' + name
        return ['  code: ' + prefix + ('' if text is None else ' ' + quote(text))]
    if name not in KNOWN_CODES:
        if data is None:
            return ['  code: other ' + name]
        if isinstance(data, str):
            if name == 'MAILBOXID':
                # net-imap gives the object id; we keep the arguments as sent
                data = '(' + data + ')'
            return ['  code: other ' + name + ' ' + quote(data)]
        raise ValueError('code data %r' % (data,))
    if name in STRV_CODES:
        return ['  code: %s %s' % (name, strv(data or []))]
    if name in NUMBER_CODES:
        return ['  code: %s %d' % (name, data)]
    if name == 'APPENDUID':
        return ['  code: APPENDUID %d %s' % (data['uidvalidity'], seqset(data['assigned_uids']))]
    if name == 'COPYUID':
        return ['  code: COPYUID %d %s %s' % (data['uidvalidity'], seqset(data['source_uids']),
                                               seqset(data['assigned_uids']))]
    if name == 'MODIFIED':
        return ['  code: MODIFIED ' + seqset(data)]
    if data is None:
        return ['  code: ' + name]
    return ['  code: %s %s' % (name, quote(str(data)))]


def resp_text(rt):
    lines = code_line(rt.get('code'))
    lines.append('  text: ' + quote(rt.get('text') or ''))
    return lines


def addresses(lst):
    return ' '.join('(%s %s %s %s)' % (quote(a['name']), quote(a['route']), quote(a['mailbox']),
                                       quote(a['host'])) for a in (lst or []))


def envelope(e, level):
    ind = '  ' * level
    lines = [ind + 'envelope:', ind + '  date: ' + quote(e['date']),
             ind + '  subject: ' + quote(e['subject'])]
    for key, label in (('from', 'from'), ('sender', 'sender'), ('reply_to', 'reply-to'),
                       ('to', 'to'), ('cc', 'cc'), ('bcc', 'bcc')):
        a = addresses(e[key])
        lines.append(ind + '  ' + label + ':' + (' ' + a if a else ''))
    lines.append(ind + '  in-reply-to: ' + quote(e['in_reply_to']))
    lines.append(ind + '  message-id: ' + quote(e['message_id']))
    return lines


def params(p):
    if p is None:
        return '()'
    return '(' + ' '.join(quote(k) + ' ' + quote(v) for k, v in p.items()) + ')'


def body(b, label, level):
    ind = '  ' * level
    kind = cls(b)
    line = '%s%s: %s/%s params=%s' % (ind, label, quote(b['media_type']), quote(b['subtype']),
                                     params(b.get('param')))
    if kind != 'BodyTypeMultipart':
        line += ' id=%s description=%s encoding=%s size=%d' % (
            quote(b['content_id']), quote(b['description']), quote(b['encoding']), b['size'])
        if kind in ('BodyTypeText', 'BodyTypeMessage'):
            line += ' lines=%d' % b['lines']
    if b.get('md5') is not None:
        line += ' md5=' + quote(b['md5'])
    d = b.get('disposition')
    if d is not None:
        line += ' disposition=' + quote(d['dsp_type'])
        if d.get('param') is not None:
            line += ' ' + params(d['param'])
    lang = b.get('language')
    if lang is not None:
        line += ' language=' + strv([lang] if isinstance(lang, str) else lang)
    if b.get('location') is not None:
        line += ' location=' + quote(b['location'])
    if b.get('extension') is not None:
        line += ' extension=' + generic(b['extension'])
    lines = [line]
    if kind == 'BodyTypeMessage':
        lines += envelope(b['envelope'], level + 1)
        lines += body(b['body'], 'body', level + 1)
    for part in b.get('parts') or []:
        lines += body(part, 'part', level + 1)
    return lines


def internaldate(text):
    t = datetime.datetime.strptime(text.strip(), '%d-%b-%Y %H:%M:%S %z')
    return t.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def fetch(header, attr, uid=None):
    lines = [header]
    if uid is not None:
        attr = dict(attr, UID=uid)
    if 'UID' in attr:
        lines.append('  uid: %d' % attr['UID'])
    if 'FLAGS' in attr:
        lines.append('  flags: ' + strv(attr['FLAGS']))
    if 'INTERNALDATE' in attr:
        lines.append('  internaldate: ' + internaldate(attr['INTERNALDATE']))
    if 'RFC822.SIZE' in attr:
        lines.append('  size: %d' % attr['RFC822.SIZE'])
    if 'MODSEQ' in attr:
        lines.append('  modseq: %d' % attr['MODSEQ'])
    if 'EMAILID' in attr or 'THREADID' in attr:
        lines.append('  emailid: ' + quote(attr.get('EMAILID')))
        lines.append('  threadid: ' + quote(attr.get('THREADID')))
    if any(k.startswith('X-GM-') for k in attr):
        lines.append('  x-gm-msgid: %d' % attr.get('X-GM-MSGID', 0))
        lines.append('  x-gm-thrid: %d' % attr.get('X-GM-THRID', 0))
        if 'X-GM-LABELS' in attr:
            lines.append('  x-gm-labels: ' + strv(attr['X-GM-LABELS']))
    if 'ENVELOPE' in attr:
        lines += envelope(attr['ENVELOPE'], 1)
    for key in ('BODYSTRUCTURE', 'BODY'):
        if key in attr:
            lines += body(attr[key], 'body', 1)
    for key, value in attr.items():
        m = re.match(r'^(BODY|BINARY)\[(.*)\](<\d+>)?$', key, re.S)
        section = None
        if m:
            section = ('BINARY ' if m.group(1) == 'BINARY' else '') + m.group(2) + ']' + (m.group(3) or '')
        elif key == 'RFC822':
            section = ']'
        elif key == 'RFC822.HEADER':
            section = 'HEADER]'
        elif key == 'RFC822.TEXT':
            section = 'TEXT]'
        if section is not None:
            data = 'NIL' if value is None else quote(value)
            lines.append('  section[' + section + ': ' + data)
    return lines


def thread_chain(m):
    items = []
    while True:
        if m.get('seqno') is not None:
            items.append(str(m['seqno']))
        children = m.get('children') or []
        if len(children) == 1:
            m = children[0]
            continue
        for c in children:
            items.append('(' + ' '.join(thread_chain(c)) + ')')
        return items


def untagged(r):
    name = r['name'].upper()
    data = r.get('data')
    if name in ('OK', 'NO', 'BAD', 'PREAUTH', 'BYE'):
        return ['* ' + name] + resp_text(data)
    if name in ('EXISTS', 'RECENT', 'EXPUNGE'):
        return ['* %d %s' % (data, name)]
    if name == 'FETCH':
        return fetch('* %d FETCH' % data['seqno'], data['attr'])
    if name == 'UIDFETCH':
        return fetch('* %d UIDFETCH' % data['uid'], data['attr'], uid=data['uid'])
    if name in ('CAPABILITY', 'ENABLED', 'FLAGS'):
        return ['* ' + name, '  ' + strv(data)]
    if name == 'ID':
        if data is None:
            return ['* ID', '  NIL']
        pairs = []
        for k, v in data.items():
            pairs += [k, '' if v is None else v]
        return ['* ID', '  ' + strv(pairs)]
    if name in ('LIST', 'LSUB', 'XLIST'):
        lines = ['* ' + name, '  attributes: ' + strv(data['attr']),
                 '  delimiter: ' + quote(data['delim'])]
        return lines + mailbox_lines(data['name'])
    if name == 'STATUS':
        lines = ['* STATUS'] + mailbox_lines(data['mailbox'])
        for item in ('MESSAGES', 'RECENT', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'HIGHESTMODSEQ',
                     'SIZE', 'DELETED', 'APPENDLIMIT'):
            if item in data['attr']:
                lines.append('  %s: %s' % (item.lower(), data['attr'][item]))
        return lines
    if name in ('SEARCH', 'SORT'):
        if cls(data) == 'SearchResult':
            ivars = data.get('ivars') or {}
            numbers, modseq = data['internal'], ivars.get('@modseq', ivars.get(':@modseq'))
        else:
            numbers, modseq = data, None
        if not numbers and modseq is None:
            return ['* ' + name]
        text = '  ' + ' '.join(str(n) for n in numbers)
        if modseq is not None:
            text += ' (MODSEQ %d)' % modseq
        return ['* ' + name, text]
    if name == 'ESEARCH':
        lines = ['* ESEARCH']
        if data.get('tag') is not None:
            lines.append('  tag: ' + quote(data['tag']))
        if data.get('uid'):
            lines.append('  uid')
        items = dict((k, v) for k, v in data['data'])
        for key in ('MIN', 'MAX', 'COUNT', 'MODSEQ'):
            if key in items:
                lines.append('  %s: %d' % (key.lower(), items[key]))
        if 'ALL' in items:
            lines.append('  all: ' + seqset(items['ALL']))
        if 'PARTIAL' in items:
            lines.append('  partial: ' + seqset(items['PARTIAL']['results']))
        return lines
    if name == 'VANISHED':
        return ['* VANISHED', '  ' + ('earlier ' if data['earlier'] else '') + seqset(data['uids'])]
    if name == 'NAMESPACE':
        lines = ['* NAMESPACE']
        for key in ('personal', 'other', 'shared'):
            entries = data[key]
            if not entries:
                lines.append('  %s: NIL' % key)
            else:
                lines.append('  %s: %s' % (key, ' '.join(
                    '(%s %s)' % (quote(e['prefix']), quote(e['delim'])) for e in entries)))
        return lines
    if name == 'QUOTA':
        resource = re.search(r'\((\S+) ', r['raw_data']).group(1).upper()
        return ['* QUOTA', '  root: ' + quote(data['mailbox']),
                '  %s: %s %s' % (resource, data['usage'], data['quota'])]
    if name == 'QUOTAROOT':
        return ['* QUOTAROOT', '  ' + strv([data['mailbox']] + data['quotaroots'])]
    if name == 'ACL':
        values = []
        for item in data:
            values += [quote(item['mailbox']), quote(item['user']), item['rights']]
        return ['* ACL', '  ' + ' '.join(values)]
    if name == 'THREAD':
        if not data:
            return ['* THREAD']
        return ['* THREAD', '  ' + ' '.join('(' + ' '.join(thread_chain(m)) + ')' for m in data)]
    raise ValueError('untagged %s' % name)


def render(expected):
    kind = cls(expected)
    if kind == 'TaggedResponse':
        return [expected['tag'] + ' ' + expected['name'].upper()] + resp_text(expected['data'])
    if kind == 'ContinuationRequest':
        return ['+'] + resp_text(expected['data'])
    if kind == 'UntaggedResponse':
        return untagged(expected)
    if kind == 'IgnoredResponse':
        data = expected.get('data')
        if data is None:
            return ['* ' + expected['name']]
        if isinstance(data, int):
            return ['* %d %s' % (data, expected['name'])]
        if cls(data) == 'UnparsedData':
            return ['* ' + expected['name'], '  ' + data['unparsed_data']]
        if cls(data) == 'UnparsedNumericResponseData':
            return ['* %d %s' % (data['number'], expected['name']), '  ' + data['unparsed_data']]
    raise ValueError('response %s' % kind)


def escape_line(raw):
    out = []
    for c in raw:
        if c == 0x5c:
            out.append('\\\\')
        elif c == 0x0d:
            out.append('\\r')
        elif c == 0x0a:
            out.append('\\n')
        elif c < 0x20 or c >= 0x7f:
            out.append('\\%03o' % c)
        else:
            out.append(chr(c))
    return ''.join(out)


def main():
    corpus, imap_parse = sys.argv[1], sys.argv[2]
    out_dir = sys.argv[3] if len(sys.argv) > 3 else os.path.join(os.path.dirname(__file__), 'fixtures')
    os.makedirs(out_dir, exist_ok=True)
    errors = []
    failed = False
    count = 0
    for path in sorted(glob.glob(os.path.join(corpus, 'test/net/imap/fixtures/response_parser/*.yml'))):
        base = os.path.splitext(os.path.basename(path))[0]
        tests = yaml.load(open(path, 'rb'), Loader=Loader)[':tests']
        raw_all = b''
        expected_all = []
        for name, test in tests.items():
            raw = test[':response']
            raw = raw if isinstance(raw, bytes) else raw.encode('utf-8')
            mine = subprocess.run([imap_parse], input=raw, capture_output=True).stdout.decode('utf-8')
            if test.get(':test_type') == ':assert_parse_failure' and name not in DEVIATIONS:
                if not mine.startswith('error: '):
                    print('%s: %s: parsed what net-imap refuses:\n%s' % (base, name, mine))
                    failed = True
                errors.append('# %s: %s\n%s\n' % (base, name, escape_line(raw)))
                count += 1
                continue
            if name in DEVIATIONS:
                ok = not mine.startswith('error: ')
            else:
                try:
                    theirs = '\n'.join(render(test[':expected'])) + '\n'
                except (ValueError, KeyError, TypeError) as e:
                    print('%s: %s: cannot render the Ruby expectation: %r' % (base, name, e))
                    failed = True
                    continue
                ok = mine.upper() == theirs.upper()
                if not ok:
                    print('%s: %s: differs\n--- ours\n%s--- net-imap\n%s' % (base, name, mine, theirs))
            if not ok:
                failed = True
                continue
            raw_all += raw
            expected_all.append('# %s\n%s' % (name, mine))
            count += 1
        with open(os.path.join(out_dir, base + '.raw'), 'wb') as f:
            f.write(raw_all)
        with open(os.path.join(out_dir, base + '.expected'), 'w', encoding='utf-8') as f:
            f.write(''.join(expected_all))
    with open(os.path.join(out_dir, 'errors.txt'), 'w', encoding='utf-8') as f:
        f.write('# responses that must not parse, one per line, escaped\n')
        f.write(''.join(errors))
    print('%d fixtures converted%s' % (count, ', with differences' if failed else ''))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
