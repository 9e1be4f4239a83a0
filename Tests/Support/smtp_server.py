"""A real SMTP server on loopback for seqbridge's tests (aiosmtpd).

Prints "READY <port>" once listening. Messages are written to --out as
<n>.eml with a <n>.json envelope beside them. Recipients steer the answers:
reject-* get 550 5.1.1, full-* get 552 5.2.2, later-* get 451 4.3.0.
"""
import argparse
import asyncio
import base64
import json
import os
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword, SMTP


class Handler:
    def __init__(self, out, pipelining, xoauth2=None):
        self.out = out
        self.pipelining = pipelining
        self.xoauth2 = xoauth2
        self.count = 0
        self.sessions = set()
        self.lock = threading.Lock()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        with self.lock:
            self.sessions.add(tuple(session.peer))
            with open(os.path.join(self.out, "sessions"), "w") as f:
                f.write(str(len(self.sessions)))
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def auth_XOAUTH2(self, server, args):
        """user=USER^Aauth=Bearer TOKEN^A^A, base64, as Gmail and Outlook take it."""
        if not self.xoauth2 or len(args) < 2:
            return AuthResult(success=False, handled=False)
        try:
            decoded = base64.b64decode(args[1]).decode()
        except Exception:
            return AuthResult(success=False, handled=False)
        user, token = self.xoauth2.split(":", 1)
        if decoded == "user=%s\x01auth=Bearer %s\x01\x01" % (user, token):
            return AuthResult(success=True, auth_data=user)
        return AuthResult(success=False, handled=False)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0].lower()
        if local.startswith("reject-"):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        if local.startswith("full-"):
            return "552 5.2.2 <%s>: mailbox full" % address
        if local.startswith("later-"):
            return "451 4.3.0 <%s>: try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            n = self.count
        with open(os.path.join(self.out, "%06d.eml" % n), "wb") as f:
            f.write(envelope.original_content or envelope.content)
        with open(os.path.join(self.out, "%06d.json" % n), "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "mail_options": envelope.mail_options, "tls": session.ssl is not None,
                       "authenticated": session.authenticated}, f)
        return "250 2.0.0 Ok: queued as Q%06d" % n


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--implicit-tls", action="store_true")
    parser.add_argument("--auth", help="user:password")
    parser.add_argument("--pipelining", action="store_true")
    parser.add_argument("--xoauth2", help="user:token accepted by AUTH XOAUTH2")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()

    context = None
    if args.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        if not args.auth:
            return AuthResult(success=False, handled=False)
        user, password = args.auth.split(":", 1)
        if isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user \
                and auth_data.password.decode() == password:
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    handler = Handler(args.out, args.pipelining, args.xoauth2)
    kwargs = dict(hostname="127.0.0.1", port=port, authenticator=authenticator if args.auth else None,
                  auth_required=bool(args.auth), auth_require_tls=bool(context), data_size_limit=10 * 1024 * 1024)
    if context and args.implicit_tls:
        kwargs["ssl_context"] = context
        # aiosmtpd only counts STARTTLS as TLS; the whole connection is TLS here.
        kwargs["auth_require_tls"] = False
    elif context:
        kwargs["tls_context"] = context
        kwargs["require_starttls"] = True
    controller = Controller(handler, **kwargs)
    controller.start()
    print("READY %d" % port, flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
