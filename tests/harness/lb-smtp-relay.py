#!/usr/bin/python3
"""SMTP submission server for Letterbox's tests, used when Postfix cannot run (not root).

Needs Debian's python3-aiosmtpd (1.4), so run it with /usr/bin/python3.

Listens on 127.0.0.1 on two ports: PORT (STARTTLS offered) and TLS_PORT (implicit
TLS). AUTH PLAIN/LOGIN is checked against Dovecot's passwd-file ({PLAIN} entries)
and required before MAIL FROM. Every accepted message is handed to Dovecot over
LMTP, one transaction per recipient. Recipients in a local domain (the domain of a
user in the passwd-file) must exist (550 at RCPT otherwise); recipients in any
other domain are accepted and discarded: nothing ever leaves the machine.

usage: lb-smtp-relay.py --users FILE --lmtp PATH|HOST:PORT --cert PEM --key PEM
                        --port N --tls-port N [--banner TEXT]
Stops on SIGTERM or SIGINT.
"""
import argparse
import logging
import signal
import smtplib
import socket
import ssl
import sys
import warnings

# AUTH without TLS is allowed on purpose (tests only, like Dovecot's plain ports)
warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                    format="%(asctime)s %(name)s %(levelname)s %(message)s")
# aiosmtpd 1.4 warns about its own deprecated attribute on every AUTH, and about
# AUTH without TLS on every connection
logging.getLogger("mail.log").addFilter(
    lambda r: not any(s in r.getMessage() for s in (
        "login_data is deprecated", "auth_require_tls == False")))


def load_users(path):
    users = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                name, password = line.rstrip("\n").split(":")[:2]
                users[name] = password.removeprefix("{PLAIN}")
    return users


class Relay:
    def __init__(self, users_file, lmtp):
        self.users_file = users_file
        self.lmtp = lmtp

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        try:
            login = auth_data.login.decode("utf-8")
            password = auth_data.password.decode("utf-8")
        except UnicodeDecodeError:
            return AuthResult(success=False, handled=False)
        ok = load_users(self.users_file).get(login) == password
        # handled=False: let aiosmtpd send the 235/535 reply itself
        return AuthResult(success=ok, handled=False)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        users = load_users(self.users_file)
        local_domains = {u.rpartition("@")[2].lower() for u in users}
        if address not in users and address.rpartition("@")[2].lower() in local_domains:
            return f"550 5.1.1 <{address}>: Recipient address rejected: unknown user"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    def _lmtp(self):
        if self.lmtp.startswith("/"):
            return smtplib.LMTP(self.lmtp)
        host, port = self.lmtp.rsplit(":", 1)
        return smtplib.LMTP(host, int(port))

    async def handle_DATA(self, server, session, envelope):
        users = load_users(self.users_file)
        failed = []
        # smtplib reads only one reply after DATA, so one LMTP transaction per
        # recipient; recipients in other domains are silently dropped.
        for rcpt in (r for r in envelope.rcpt_tos if r in users):
            try:
                with self._lmtp() as lmtp:
                    lmtp.sendmail(envelope.mail_from, [rcpt], envelope.original_content)
            except (OSError, smtplib.SMTPException) as e:
                failed.append(f"{rcpt}: {e}")
        if failed:
            logging.error("LMTP delivery failed: %s", "; ".join(failed))
            return "451 4.3.0 LMTP delivery failed: " + "; ".join(failed)[:400]
        return "250 2.0.0 OK delivered"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--users", required=True)
    p.add_argument("--lmtp", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--tls-port", type=int, required=True)
    p.add_argument("--banner", default="lb-test ESMTP")
    a = p.parse_args()

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(a.cert, a.key)
    relay = Relay(a.users, a.lmtp)
    common = dict(hostname="127.0.0.1", server_hostname="mail.example.test",
                  ident=a.banner, authenticator=relay.authenticate,
                  auth_required=True, auth_require_tls=False)
    # implicit-TLS port first: once the STARTTLS port greets, both are up
    servers = [Controller(relay, port=a.tls_port, ssl_context=ctx, **common),
               Controller(relay, port=a.port, tls_context=ctx,
                          require_starttls=False, **common)]

    # aiosmtpd's Controller only reports a failed bind after its 5 s ready
    # timeout: find a taken port at once (bound like asyncio does, then freed)
    for port in (a.tls_port, a.port):
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError as e:
                print(f"lb-smtp-relay: cannot listen on 127.0.0.1:{port}: {e.strerror}",
                      file=sys.stderr, flush=True)
                return 1

    sigs = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, sigs)  # threads started below inherit it
    started = []
    try:
        for s in servers:
            s.start()
            started.append(s)
    except Exception as e:  # e.g. address already in use
        print(f"lb-smtp-relay: cannot start: {e}", file=sys.stderr, flush=True)
        for s in started:
            s.stop()
        return 1
    print(f"lb-smtp-relay: listening on 127.0.0.1:{a.port} (STARTTLS) "
          f"and 127.0.0.1:{a.tls_port} (TLS)", file=sys.stderr, flush=True)
    signal.sigwait(sigs)
    for s in reversed(servers):
        s.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
