#!/usr/bin/env python3
# capture-dovecot.py: record what the harness's Dovecot says in a session
# that uses most of what the parser reads, as fixtures/dovecot-session.raw.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   tests/harness/lb-test-env --dovecot -- tests/data/imap/capture-dovecot.py \
#     _build/tests/imap-parse tests/data/imap/fixtures/dovecot-session
#
# writes dovecot-session.raw and, with imap-parse, dovecot-session.expected
# (read it before committing it: it is only what the parser says today).
# Only standard Python; talks to 127.0.0.1 on the harness's plain port.

import os
import re
import socket
import subprocess
import sys

MESSAGES = [
    b"""From: "Alice Example" <alice@example.test>
To: undisclosed-recipients:;
Cc: Team: bob@example.test, "Carol \\"C\\" Q." <carol@example.test>;
Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= and a plain one
Date: Wed, 17 Jul 1996 02:23:25 -0700
Message-ID: <m1@example.test>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8; format=flowed
Content-Transfer-Encoding: 8bit

Hello \xc3\xa4\xc3\xb6\xc3\xbc.
""",
    b"""From: Bob <bob@example.test>
To: alice@example.test
Subject: Report with a forwarded message
Date: Thu, 18 Jul 1996 10:00:00 +0000
Message-ID: <m2@example.test>
In-Reply-To: <m1@example.test>
References: <m0@example.test> <m1@example.test>
List-ID: <team.example.test>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain; charset=us-ascii

plain
--inner
Content-Type: text/html; charset=us-ascii
Content-Transfer-Encoding: quoted-printable

<p>html=3D</p>
--inner--

--outer
Content-Type: message/rfc822
Content-Disposition: attachment; filename="fwd.eml"
Content-Description: the original
Content-Language: en, de
Content-Location: http://example.test/fwd.eml

From: Carol <carol@example.test>
Subject: inner
Message-ID: <inner@example.test>
Content-Type: text/plain

inner body
--outer
Content-Type: application/pdf; name="a file.pdf"
Content-Disposition: attachment; filename*=utf-8''%C3%A4.pdf
Content-Transfer-Encoding: base64
Content-ID: <pdf@example.test>
Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==

JVBERi0xLjQK
--outer--
""",
]


def main():
    imap_parse, out_base = sys.argv[1], sys.argv[2]
    user, password = os.environ['LB_TEST_USERS'].split()[0].split(':')
    sock = socket.create_connection(('127.0.0.1', int(os.environ['LB_TEST_IMAP_PORT'])))
    f = sock.makefile('rwb', buffering=0)
    responses = []
    counter = [0]
    current = ['greeting']

    def read_line():
        line = f.readline()
        whole = line
        # a literal follows: read it whole
        m = re.search(rb'\{(\d+)\}\r\n$', line)
        while m:
            whole += f.read(int(m.group(1)))
            line = f.readline()
            whole += line
            m = re.search(rb'\{(\d+)\}\r\n$', line)
        # the greeting names the machine: not in the repository
        whole = re.sub(rb'^(\* OK .*\] lb-test) \S+ (ready\.)', rb'\1 \2', whole)
        responses.append((current[0], whole))
        return line

    def command(text, literals=()):
        counter[0] += 1
        tag = b'c%d' % counter[0]
        current[0] = '%s %s' % (tag.decode(), text.split(' ')[0] if text[0] != 'U' else ' '.join(text.split(' ')[:2]))
        parts = text.encode('utf-8').split(b'{}')
        f.write(tag + b' ' + parts[0])
        for literal, rest in zip(literals, parts[1:]):
            f.write(b'{%d}\r\n' % len(literal))
            while not read_line().startswith(b'+'):
                pass
            f.write(literal + rest)
        f.write(b'\r\n')
        while True:
            line = read_line()
            if line.startswith(tag + b' '):
                return line

    read_line()  # greeting
    command('CAPABILITY')
    command('LOGIN %s %s' % (user, password))
    command('ID ("name" "letterbox-capture")')
    command('ENABLE CONDSTORE QRESYNC')
    command('NAMESPACE')
    command('CREATE "Entw&APw-rfe"')
    command('CREATE "Archive/2024"')
    command('LIST "" "*" RETURN (SPECIAL-USE CHILDREN SUBSCRIBED STATUS (MESSAGES UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ SIZE))')
    command('LIST (SPECIAL-USE) "" "*"')
    command('LSUB "" "*"')
    for message in MESSAGES:
        message = message.replace(b'\n', b'\r\n')
        command('APPEND INBOX (\\Seen $Forwarded) "17-Jul-1996 02:44:25 -0700" {}', [message])
    command('APPEND INBOX {}', [MESSAGES[0].replace(b'\n', b'\r\n')])
    command('SELECT INBOX (CONDSTORE)')
    command('UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE MODSEQ '
            'BODY.PEEK[HEADER.FIELDS (REFERENCES IN-REPLY-TO LIST-ID)])')
    command('FETCH 2 (BODY BODY.PEEK[1.2]<0.10> BINARY.PEEK[1.1] BINARY.SIZE[1.1] RFC822.HEADER)')
    command('UID STORE 1 +FLAGS.SILENT (\\Flagged)')
    command('UID STORE 2 (UNCHANGEDSINCE 1) +FLAGS (\\Answered)')
    command('UID SEARCH SEEN')
    command('SEARCH MODSEQ 1')
    command('UID SEARCH RETURN (MIN MAX COUNT ALL) ALL')
    command('UID SORT (DATE) UTF-8 ALL')
    command('UID THREAD REFERENCES UTF-8 ALL')
    command('STATUS "Entw&APw-rfe" (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ SIZE)')
    command('GETQUOTAROOT INBOX')
    command('UID COPY 1:2 "Entw&APw-rfe"')
    command('UID MOVE 3 Trash')
    command('UID STORE 1 +FLAGS.SILENT (\\Deleted)')
    command('UID EXPUNGE 1')
    command('NOOP')
    command('UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)')
    command('BOGUS')
    command('SELECT "No such"')
    command('EXAMINE "Entw&APw-rfe" (QRESYNC (1 1))')
    command('UNSELECT')
    command('DELETE "Entw&APw-rfe"')
    command('LOGOUT')
    with open(out_base + '.raw', 'wb') as out:
        out.write(b''.join(r for _, r in responses))
    with open(out_base + '.expected', 'w', encoding='utf-8') as out:
        for i, (label, raw) in enumerate(responses):
            text = subprocess.run([imap_parse], input=raw, capture_output=True, check=True).stdout
            out.write('# %s, response %d\n' % (label, i + 1))
            out.write(text.decode('utf-8'))


if __name__ == '__main__':
    main()
