#!/usr/bin/env python3
"""Regenerates the inbound-mail webhook fixtures in this directory.

Run from anywhere: python3 Tests/Fixtures/inbound/generate.py
Everything is deterministic (fixed boundaries, timestamps, tokens), so a
rerun produces byte-identical files. Multipart bodies use CRLF framing;
raw MIME messages (SendGrid `email`, Mailgun `body-mime`, SES `content`)
use CRLF line ends; parsed text fields (headers, text, body-plain, ...)
use LF inside the value, which is what the parsers must cope with anyway.
"""
import base64
import hashlib
import hmac
import json
import os
import struct
import urllib.parse
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))

# A documented key so that tests can verify Mailgun signatures end to end.
MAILGUN_SIGNING_KEY = "seqbridge-fixture-mailgun-signing-key"

OURS = "outreach@brand.example"
OURS_FULL = "Brand Outreach <outreach@brand.example>"
CAMPAIGN_SUBJECT = "Summer launch collab with Brand?"


class Person:
    def __init__(self, name, email, suffix16):
        assert len(suffix16) == 16
        self.name, self.email = name, email
        self.full = f"{name} <{email}>"
        # <sb.0h3kq2m9x + 16 chars@brand.example>, token sbt_0h3kq2m9x + 14 chars
        self.our_id = f"sb.0h3kq2m9x{suffix16}@brand.example"
        self.token = f"sbt_0h3kq2m9x{suffix16[:14]}"
        self.local, self.domain = email.split("@")


MAYA = Person("Maya Chen", "maya@creator.example", "abcdefghijklmnop")
LEO = Person("Leo Park", "leo@studio.example", "qrstuvwxyz012345")
PRIYA = Person("Priya Nair", "priya@creator.example", "7prinair0creator")
SAM = Person("Sam Okafor", "sam@creator.example", "s4mcr34t0rb0unce")

manifest = []


def write(rel, data, content_type, expect, **extra):
    path = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(path, "wb") as f:
        f.write(data)
    with open(path + ".content-type", "w") as f:
        f.write(content_type + "\n")
    entry = {"file": rel, "provider": rel.split("/")[0], "content_type": content_type, "expect": expect}
    entry.update(extra)
    manifest.append(entry)


def expect(kind, person, message_id=True, token=False):
    return {
        "type": kind,
        "recipient": person.email,
        "message_id": person.our_id if message_id else None,
        "token": person.token if token else None,
    }


def crlf(text):
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def tiny_png():
    """A valid 1x1 RGBA PNG, built by hand so the bytes are stable."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    idat = zlib.compress(b"\x00\xe4\x57\x2e\xff", 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def multipart(boundary, fields):
    """fields: list of (name, value) or (name, (filename, content_type, bytes))."""
    out = bytearray()
    for name, value in fields:
        out += f"--{boundary}\r\n".encode()
        if isinstance(value, tuple):
            filename, ctype, data = value
            out += f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'.encode()
            out += f"Content-Type: {ctype}\r\n\r\n".encode()
            out += data
        else:
            out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            out += value.encode("utf-8")
        out += b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out)


def mailgun_sign(timestamp, token):
    return hmac.new(MAILGUN_SIGNING_KEY.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()


def headers_text(pairs):
    return "".join(f"{k}: {v}\n" for k, v in pairs)


# ---------------------------------------------------------------------------
# Message content shared by several providers
# ---------------------------------------------------------------------------

def original_quote(person, when="Mon, 2 Nov 2026 at 10:00"):
    first = person.name.split()[0]
    return (
        f"On {when}, Brand Outreach <{OURS}> wrote:\n"
        f"> Hi {first},\n"
        f">\n"
        f"> We're planning our summer launch and would love to work with you on a\n"
        f"> short series of posts. Would you be open to a quick call this week?\n"
        f">\n"
        f"> Best,\n"
        f"> The Brand team\n"
    )


MAYA_REPLY_TEXT = (
    "Hi team,\n"
    "\n"
    "Yes, I'd love to be part of the summer launch! One reel plus three stories\n"
    "works for me. Thursday afternoon is good for a call.\n"
    "\n"
    "Maya\n"
    "\n"
)
MAYA_REPLY_HTML = (
    '<div dir="ltr">Hi team,<br><br>Yes, I\'d love to be part of the summer launch! '
    "One reel plus three stories works for me. Thursday afternoon is good for a call."
    '<br><br>Maya<br><img src="cid:ii_maya_logo01" alt="Maya Chen" width="1" height="1"></div>'
    '<br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon, 2 Nov 2026 at 10:00, '
    "Brand Outreach &lt;outreach@brand.example&gt; wrote:<br></div>"
    '<blockquote class="gmail_quote">Hi Maya,<br><br>We\'re planning our summer launch and would '
    "love to work with you on a short series of posts. Would you be open to a quick call this week?"
    "<br><br>Best,<br>The Brand team</blockquote></div>\n"
)

LEO_REPLY_TEXT = (
    "Hey,\n"
    "\n"
    "Thanks for reaching out. I'm booked until the 20th, but after that I'm in.\n"
    "Can you send over the brief and the usage terms?\n"
    "\n"
    "-- \n"
    "Leo Park\n"
    "Studio Park | leo@studio.example\n"
    "\n"
)
LEO_REPLY_STRIPPED = (
    "Hey,\n"
    "\n"
    "Thanks for reaching out. I'm booked until the 20th, but after that I'm in.\n"
    "Can you send over the brief and the usage terms?"
)
LEO_SIGNATURE = "-- \nLeo Park\nStudio Park | leo@studio.example"
LEO_REPLY_HTML = (
    "<html><body><div>Hey,</div><div><br></div><div>Thanks for reaching out. I'm booked until the 20th, "
    "but after that I'm in.<br>Can you send over the brief and the usage terms?</div><div><br></div>"
    "<div>-- <br>Leo Park<br>Studio Park | leo@studio.example</div><div><br></div>"
    "<blockquote type=\"cite\">On 2 Nov 2026, at 10:00, Brand Outreach &lt;outreach@brand.example&gt; wrote:"
    "<br><br>Hi Leo,<br><br>We're planning our summer launch and would love to work with you on a short "
    "series of posts. Would you be open to a quick call this week?<br><br>Best,<br>The Brand team"
    "</blockquote></body></html>\n"
)

OOO_TEXT = (
    "Hi,\n"
    "\n"
    "I'm away from my desk until Monday 16 November with limited access to email.\n"
    "For anything urgent about bookings, please write to bookings@creator.example.\n"
    "\n"
    "Thanks,\n"
    "{first}\n"
)


def ooo_text(person):
    return OOO_TEXT.format(first=person.name.split()[0])


def ooo_html(person):
    return (
        "<div>Hi,<br><br>I'm away from my desk until Monday 16 November with limited access to email.<br>"
        "For anything urgent about bookings, please write to bookings@creator.example.<br><br>"
        f"Thanks,<br>{person.name.split()[0]}</div>\n"
    )


def qp_soft(text):
    """Quoted-printable encoding good enough for our ASCII/UTF-8 bodies."""
    import quopri
    return quopri.encodestring(text.encode("utf-8")).decode("ascii")


# ---------------------------------------------------------------------------
# SendGrid Inbound Parse
# ---------------------------------------------------------------------------
SG_BOUNDARY = "xYzZY"
SG_CT = f"multipart/form-data; boundary={SG_BOUNDARY}"


def sendgrid_reply_parsed():
    p = MAYA
    hdrs = [
        ("Received", "by mx0047p1mdw1.sendgrid.net with SMTP id 7gRk2fXq1b Mon, 02 Nov 2026 14:12:09 +0000 (UTC)"),
        ("Received", "from mail-yw1-f170.creator.example (mail-yw1-f170.creator.example [198.51.100.23]) "
                     "by mx0047p1mdw1.sendgrid.net (Postfix) with ESMTPS id 4C1A2B3D4E5F "
                     "for <outreach@brand.example>; Mon, 02 Nov 2026 14:12:09 +0000 (UTC)"),
        ("DKIM-Signature", "v=1; a=rsa-sha256; c=relaxed/relaxed; d=creator.example; s=s2026; t=1793628723; "
                           "h=to:subject:message-id:date:from:in-reply-to:references:mime-version; "
                           "bh=frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=; b=Yq3mZfixtureonly"),
        ("MIME-Version", "1.0"),
        ("References", f"<{p.our_id}>"),
        ("In-Reply-To", f"<{p.our_id}>"),
        ("From", p.full),
        ("Date", "Mon, 2 Nov 2026 15:12:03 +0100"),
        ("Message-ID", "<CAK7fQ2xR8mPz1vN0bWq4Ht6LkYc3eUd@mail.creator.example>"),
        ("Subject", f"Re: {CAMPAIGN_SUBJECT}"),
        ("To", OURS_FULL),
        ("Content-Type", 'multipart/related; boundary="000000000000c0ffee5e1f2a3b4c"'),
    ]
    fields = [
        ("headers", headers_text(hdrs)),
        ("dkim", "{@creator.example : pass}"),
        ("content-ids", json.dumps({"ii_maya_logo01": "attachment1"})),
        ("to", OURS_FULL),
        ("html", MAYA_REPLY_HTML),
        ("from", p.full),
        ("text", MAYA_REPLY_TEXT + original_quote(p)),
        ("sender_ip", "198.51.100.23"),
        ("spam_report", "Spam detection software, running on the system \"mx0047p1mdw1.sendgrid.net\",\n"
                        "has NOT identified this incoming email as spam.\n\n"
                        "Content analysis details:   (0.1 points, 5.0 required)\n\n"
                        " pts rule name              description\n"
                        "---- ---------------------- --------------------------------------------------\n"
                        " 0.1 DKIM_SIGNED            Message has a DKIM or DK signature, not necessarily valid\n"),
        ("envelope", json.dumps({"to": [OURS], "from": p.email}, separators=(",", ":"))),
        ("attachments", "1"),
        ("subject", f"Re: {CAMPAIGN_SUBJECT}"),
        ("spam_score", "0.1"),
        ("attachment-info", json.dumps({"attachment1": {"filename": "maya-logo.png", "name": "maya-logo.png",
                                                        "type": "image/png", "content-id": "ii_maya_logo01"}})),
        ("charsets", json.dumps({"to": "UTF-8", "html": "UTF-8", "subject": "UTF-8", "from": "UTF-8",
                                 "text": "UTF-8"}, separators=(",", ":"))),
        ("SPF", "pass"),
        ("attachment1", ("maya-logo.png", "image/png", tiny_png())),
    ]
    write("sendgrid/reply-parsed.multipart", multipart(SG_BOUNDARY, fields), SG_CT, expect("replied", p))


def reply_mime_leo(received_by):
    """Leo's reply as a raw RFC 5322 message (Apple Mail style, multipart/alternative)."""
    p = LEO
    b = "Apple-Mail=_9F3C2D1E-8B7A-4C6D-9E0F-1A2B3C4D5E6F"
    text = LEO_REPLY_TEXT + original_quote(p, "2 Nov 2026, at 10:00")
    return crlf(
        f"Return-Path: <{p.email}>\n"
        f"Received: from smtp.studio.example (smtp.studio.example [203.0.113.45])\n"
        f" by {received_by} with ESMTPS id 9a8b7c6d5e\n"
        f" for <{OURS}>; Tue, 03 Nov 2026 08:41:27 +0000\n"
        f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=studio.example; s=mail;\n"
        f" h=from:content-type:mime-version:subject:message-id:date:to:in-reply-to:references;\n"
        f" bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=Lx9fixtureonly\n"
        f"From: {p.full}\n"
        f"Content-Type: multipart/alternative; boundary=\"{b}\"\n"
        f"Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3826.400.131.1.6\\))\n"
        f"Subject: Re: {CAMPAIGN_SUBJECT}\n"
        f"Date: Tue, 3 Nov 2026 09:41:19 +0100\n"
        f"In-Reply-To: <{p.our_id}>\n"
        f"To: {OURS_FULL}\n"
        f"References: <{p.our_id}>\n"
        f"Message-Id: <5E1C7A0B-3D2F-4B8E-A6C9-0F1D2E3A4B5C@studio.example>\n"
        f"X-Mailer: Apple Mail (2.3826.400.131.1.6)\n"
        f"\n"
        f"\n"
        f"--{b}\n"
        f"Content-Transfer-Encoding: 7bit\n"
        f"Content-Type: text/plain;\n"
        f"\tcharset=us-ascii\n"
        f"\n"
        f"{text}"
        f"\n"
        f"--{b}\n"
        f"Content-Transfer-Encoding: 7bit\n"
        f"Content-Type: text/html;\n"
        f"\tcharset=us-ascii\n"
        f"\n"
        f"{LEO_REPLY_HTML}"
        f"\n"
        f"--{b}--\n"
    )


def sendgrid_reply_raw():
    p = LEO
    mime = reply_mime_leo("mx0025p1las1.sendgrid.net (Postfix)")
    fields = [
        ("dkim", "{@studio.example : pass}"),
        ("email", mime),
        ("to", OURS_FULL),
        ("from", p.full),
        ("sender_ip", "203.0.113.45"),
        ("spam_report", "Spam detection software, running on the system \"mx0025p1las1.sendgrid.net\",\n"
                        "has NOT identified this incoming email as spam.\n"),
        ("envelope", json.dumps({"to": [OURS], "from": p.email}, separators=(",", ":"))),
        ("subject", f"Re: {CAMPAIGN_SUBJECT}"),
        ("spam_score", "0"),
        ("charsets", json.dumps({"to": "UTF-8", "subject": "UTF-8", "from": "UTF-8"}, separators=(",", ":"))),
        ("SPF", "pass"),
    ]
    write("sendgrid/reply-raw.multipart", multipart(SG_BOUNDARY, fields), SG_CT, expect("replied", p))


def sendgrid_autoreply():
    p = PRIYA
    subject = f"Out of Office: {CAMPAIGN_SUBJECT}"
    hdrs = [
        ("Received", "by mx0047p1mdw1.sendgrid.net with SMTP id Qm4fUr0OOo Mon, 02 Nov 2026 10:00:31 +0000 (UTC)"),
        ("Received", "from mail-ot1-f41.creator.example (mail-ot1-f41.creator.example [198.51.100.41]) "
                     "by mx0047p1mdw1.sendgrid.net (Postfix) with ESMTPS id 0A1B2C3D4E "
                     "for <outreach@brand.example>; Mon, 02 Nov 2026 10:00:31 +0000 (UTC)"),
        ("DKIM-Signature", "v=1; a=rsa-sha256; c=relaxed/relaxed; d=creator.example; s=s2026; t=1793613631; "
                           "h=to:subject:message-id:date:from:in-reply-to:references:auto-submitted; "
                           "bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=; b=Pr1fixtureonly"),
        ("MIME-Version", "1.0"),
        ("From", p.full),
        ("To", OURS_FULL),
        ("Subject", subject),
        ("Date", "Mon, 2 Nov 2026 15:30:30 +0530"),
        ("Message-ID", "<CAPr1yaOoO7v5x2k9LmQn3Rt@mail.creator.example>"),
        ("In-Reply-To", f"<{p.our_id}>"),
        ("References", f"<{p.our_id}>"),
        ("Auto-Submitted", "auto-replied"),
        ("X-Autoreply", "yes"),
        ("Precedence", "bulk"),
        ("Content-Type", 'multipart/alternative; boundary="000000000000ab12cd34ef56aa01"'),
    ]
    fields = [
        ("headers", headers_text(hdrs)),
        ("dkim", "{@creator.example : pass}"),
        ("to", OURS_FULL),
        ("html", ooo_html(p)),
        ("from", p.full),
        ("text", ooo_text(p)),
        ("sender_ip", "198.51.100.41"),
        ("spam_report", "Spam detection software, running on the system \"mx0047p1mdw1.sendgrid.net\",\n"
                        "has NOT identified this incoming email as spam.\n"),
        ("envelope", json.dumps({"to": [OURS], "from": p.email}, separators=(",", ":"))),
        ("attachments", "0"),
        ("subject", subject),
        ("spam_score", "0.4"),
        ("charsets", json.dumps({"to": "UTF-8", "html": "UTF-8", "subject": "UTF-8", "from": "UTF-8",
                                 "text": "UTF-8"}, separators=(",", ":"))),
        ("SPF", "pass"),
    ]
    write("sendgrid/autoreply.multipart", multipart(SG_BOUNDARY, fields), SG_CT, expect("auto_replied", p))


def returned_headers(person, date, received_host):
    return (
        f"Return-Path: <{OURS}>\n"
        f"Received: from app1.brand.example (app1.brand.example [192.0.2.10])\n"
        f"\tby {received_host} (Postfix) with ESMTPSA id 3F2E1D0C9B\n"
        f"\tfor <{person.email}>; {date}\n"
        f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=brand.example; s=sb1;\n"
        f"\th=from:to:subject:date:message-id:x-seqbridge-token;\n"
        f"\tbh=uoq1oCgLlTqpdDX/iUbLy7J1Wic=; b=Br4ndfixtureonly\n"
        f"From: {OURS_FULL}\n"
        f"To: {person.full}\n"
        f"Subject: {CAMPAIGN_SUBJECT}\n"
        f"Date: {date}\n"
        f"Message-ID: <{person.our_id}>\n"
        f"X-Seqbridge-Token: {person.token}\n"
        f"MIME-Version: 1.0\n"
        f"Content-Type: multipart/alternative; boundary=\"sb-alt-7c1d\"\n"
    )


def dsn_mime(person, reporter, remote_mta, queue_id, arrival, attempt, smtp_reply, status, human_reason,
             received_line):
    b = f"{queue_id}.1793613607/{reporter}"
    return crlf(
        f"Return-Path: <>\n"
        f"{received_line}"
        f"Date: {attempt}\n"
        f"From: MAILER-DAEMON@{reporter} (Mail Delivery System)\n"
        f"Subject: Undelivered Mail Returned to Sender\n"
        f"To: {OURS}\n"
        f"Auto-Submitted: auto-replied\n"
        f"MIME-Version: 1.0\n"
        f"Content-Type: multipart/report; report-type=delivery-status;\n"
        f"\tboundary=\"{b}\"\n"
        f"Content-Transfer-Encoding: 8bit\n"
        f"Message-Id: <20261102100007.{queue_id}@{reporter}>\n"
        f"\n"
        f"This is a MIME-encapsulated message.\n"
        f"\n"
        f"--{b}\n"
        f"Content-Description: Notification\n"
        f"Content-Type: text/plain; charset=us-ascii\n"
        f"\n"
        f"This is the mail system at host {reporter}.\n"
        f"\n"
        f"I'm sorry to have to inform you that your message could not\n"
        f"be delivered to one or more recipients. It's attached below.\n"
        f"\n"
        f"For further assistance, please send mail to postmaster.\n"
        f"\n"
        f"If you do so, please include this problem report. You can\n"
        f"delete your own text from the attached returned message.\n"
        f"\n"
        f"                   The mail system\n"
        f"\n"
        f"<{person.email}>: {human_reason}\n"
        f"\n"
        f"--{b}\n"
        f"Content-Description: Delivery report\n"
        f"Content-Type: message/delivery-status\n"
        f"\n"
        f"Reporting-MTA: dns; {reporter}\n"
        f"X-Postfix-Queue-ID: {queue_id}\n"
        f"X-Postfix-Sender: rfc822; {OURS}\n"
        f"Arrival-Date: {arrival}\n"
        f"\n"
        f"Final-Recipient: rfc822; {person.email}\n"
        f"Original-Recipient: rfc822;{person.email}\n"
        f"Action: failed\n"
        f"Status: {status}\n"
        f"Remote-MTA: dns; {remote_mta}\n"
        f"Diagnostic-Code: smtp; {smtp_reply}\n"
        f"Last-Attempt-Date: {attempt}\n"
        f"\n"
        f"--{b}\n"
        f"Content-Description: Undelivered Message Headers\n"
        f"Content-Type: text/rfc822-headers\n"
        f"Content-Transfer-Encoding: 8bit\n"
        f"\n"
        f"{returned_headers(person, arrival, reporter)}"
        f"\n"
        f"--{b}--\n"
    )


def sendgrid_bounce_raw():
    p = LEO
    mime = dsn_mime(
        p,
        reporter="mta1.brand.example",
        remote_mta="mx1.studio.example",
        queue_id="4B1D2C3E4F",
        arrival="Mon,  2 Nov 2026 10:00:05 +0000 (UTC)",
        attempt="Mon,  2 Nov 2026 10:00:07 +0000 (UTC)",
        smtp_reply=f"550 5.1.1 <{p.email}>: Recipient address rejected: User unknown in virtual mailbox table",
        status="5.1.1",
        human_reason=(f"host mx1.studio.example[203.0.113.25] said: 550 5.1.1\n"
                      f"    <{p.email}>: Recipient address rejected: User unknown in virtual\n"
                      f"    mailbox table (in reply to RCPT TO command)"),
        received_line=(f"Received: from mta1.brand.example (mta1.brand.example [192.0.2.25])\n"
                       f" by mx0025p1las1.sendgrid.net (Postfix) with ESMTPS id 8D7C6B5A49\n"
                       f" for <{OURS}>; Mon, 02 Nov 2026 10:00:07 +0000 (UTC)\n"),
    )
    fields = [
        ("dkim", "none"),
        ("email", mime),
        ("to", OURS),
        ("from", "MAILER-DAEMON@mta1.brand.example (Mail Delivery System)"),
        ("sender_ip", "192.0.2.25"),
        ("spam_report", "Spam detection software, running on the system \"mx0025p1las1.sendgrid.net\",\n"
                        "has NOT identified this incoming email as spam.\n"),
        # A DSN travels with the null reverse-path <>; how SendGrid renders it is
        # not documented, so the fixture uses an empty string.
        ("envelope", json.dumps({"to": [OURS], "from": ""}, separators=(",", ":"))),
        ("subject", "Undelivered Mail Returned to Sender"),
        ("spam_score", "0.9"),
        ("charsets", json.dumps({"to": "UTF-8", "subject": "UTF-8", "from": "UTF-8"}, separators=(",", ":"))),
        ("SPF", "none"),
    ]
    write("sendgrid/bounce-raw.multipart", multipart(SG_BOUNDARY, fields), SG_CT,
          expect("bounced", p, message_id=True, token=True))


# ---------------------------------------------------------------------------
# Mailgun routes, forward()
# ---------------------------------------------------------------------------

def mailgun_common(timestamp, token):
    return [("timestamp", timestamp), ("token", token), ("signature", mailgun_sign(timestamp, token))]


def mailgun_header_fields(headers):
    """Mailgun also posts each header as its own field; repeated headers are
    joined with ', ' (the JSON `message-headers` keeps them separate)."""
    merged = {}
    order = []
    for k, v in headers:
        if k not in merged:
            merged[k] = v
            order.append(k)
        else:
            merged[k] += ", " + v
    return [(k, merged[k]) for k in order]


def mailgun_reply():
    p = LEO
    subject = f"Re: {CAMPAIGN_SUBJECT}"
    headers = [
        ["X-Mailgun-Spam-Rules", "DKIM_SIGNED, DKIM_VALID, DKIM_VALID_AU, SPF_PASS"],
        ["X-Mailgun-Dkim-Check-Result", "Pass"],
        ["X-Mailgun-Spf", "Pass"],
        ["X-Mailgun-Sscore", "-0.1"],
        ["X-Mailgun-Sflag", "No"],
        ["X-Mailgun-Incoming", "Yes"],
        ["X-Envelope-From", f"<{p.email}>"],
        ["Received", "from smtp.studio.example (smtp.studio.example [203.0.113.45]) by mxa.mailgun.org "
                     "with ESMTP id 67f1c2d3e4a5b6c7d8e9f001 (version=TLS1.3, cipher=TLS_AES_256_GCM_SHA384); "
                     "Tue, 03 Nov 2026 08:41:27 GMT"],
        ["Received", "by smtp.studio.example (Postfix, from userid 1001) id 5D4C3B2A19; "
                     "Tue, 3 Nov 2026 09:41:26 +0100 (CET)"],
        ["Dkim-Signature", "v=1; a=rsa-sha256; c=relaxed/relaxed; d=studio.example; s=mail; "
                           "h=from:content-type:mime-version:subject:message-id:date:to:in-reply-to:references; "
                           "bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=Lx9fixtureonly"],
        ["From", p.full],
        ["Content-Type", "multipart/alternative; boundary=\"Apple-Mail=_9F3C2D1E-8B7A-4C6D-9E0F-1A2B3C4D5E6F\""],
        ["Mime-Version", "1.0 (Mac OS X Mail 16.0 \\(3826.400.131.1.6\\))"],
        ["Subject", subject],
        ["Date", "Tue, 3 Nov 2026 09:41:19 +0100"],
        ["In-Reply-To", f"<{p.our_id}>"],
        ["To", OURS_FULL],
        ["References", f"<{p.our_id}>"],
        ["Message-Id", "<5E1C7A0B-3D2F-4B8E-A6C9-0F1D2E3A4B5C@studio.example>"],
        ["X-Mailer", "Apple Mail (2.3826.400.131.1.6)"],
    ]
    token = "b6f0d9e5a2c74e1f8d3b9a6c0e5f7d2a4c8b1e9f3d6a0c7b2e"
    assert len(token) == 50
    fields = [("recipient", OURS), ("sender", p.email), ("subject", subject), ("from", p.full)]
    fields += mailgun_header_fields(headers)
    fields += [("message-headers", json.dumps(headers))]
    fields += mailgun_common("1793695288", token)
    fields += [
        ("body-plain", LEO_REPLY_TEXT + original_quote(p, "2 Nov 2026, at 10:00")),
        ("body-html", LEO_REPLY_HTML),
        ("stripped-html", "<html><body><div>Hey,</div><div><br></div><div>Thanks for reaching out. I'm booked "
                          "until the 20th, but after that I'm in.<br>Can you send over the brief and the usage "
                          "terms?</div></body></html>"),
        ("stripped-text", LEO_REPLY_STRIPPED),
        ("stripped-signature", LEO_SIGNATURE),
    ]
    body = urllib.parse.urlencode(fields)
    write("mailgun/reply.urlencoded", body, "application/x-www-form-urlencoded", expect("replied", p),
          mailgun_signing_key=MAILGUN_SIGNING_KEY)


def mailgun_autoreply():
    """An Exchange-style automatic reply: no In-Reply-To/References, so the only
    link back to our message is the sender's address."""
    p = MAYA
    subject = f"Out of Office: {CAMPAIGN_SUBJECT}"
    headers = [
        ["X-Mailgun-Spam-Rules", "SPF_PASS"],
        ["X-Mailgun-Dkim-Check-Result", "Pass"],
        ["X-Mailgun-Spf", "Pass"],
        ["X-Mailgun-Sscore", "0.3"],
        ["X-Mailgun-Sflag", "No"],
        ["X-Mailgun-Incoming", "Yes"],
        ["X-Envelope-From", f"<{p.email}>"],
        ["Received", "from mail.creator.example (mail.creator.example [198.51.100.23]) by mxb.mailgun.org "
                     "with ESMTP id 67f1c2d3e4a5b6c7d8e9f0aa (version=TLS1.2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384); "
                     "Mon, 02 Nov 2026 10:00:12 GMT"],
        ["From", p.full],
        ["To", OURS_FULL],
        ["Subject", subject],
        ["Thread-Topic", CAMPAIGN_SUBJECT],
        ["Thread-Index", "AQHdTkYfixtureonlyAAAA=="],
        ["Date", "Mon, 2 Nov 2026 10:00:11 +0000"],
        ["Message-Id", "<OOF-7a1e0c4b2d9f4e8a@mail.creator.example>"],
        ["Auto-Submitted", "auto-replied"],
        ["X-Auto-Response-Suppress", "All"],
        ["X-Ms-Exchange-Inbox-Rules-Loop", p.email],
        ["Content-Language", "en-GB"],
        ["Content-Type", "multipart/alternative; boundary=\"_000_OOF7a1e0c4b2d9f4e8a_\""],
        ["Mime-Version", "1.0"],
    ]
    token = "0e7d1c9b4a6f2e8d5c3b0a9f7e1d6c4b8a2f5e0d3c9b7a1f6e"
    assert len(token) == 50
    fields = [("recipient", OURS), ("sender", p.email), ("subject", subject), ("from", p.full)]
    fields += mailgun_header_fields(headers)
    fields += [("message-headers", json.dumps(headers))]
    fields += mailgun_common("1793613613", token)
    fields += [
        ("body-plain", ooo_text(p)),
        ("body-html", ooo_html(p)),
        ("stripped-html", ooo_html(p)),
        ("stripped-text", ooo_text(p).rstrip("\n")),
    ]
    body = urllib.parse.urlencode(fields)
    write("mailgun/autoreply.urlencoded", body, "application/x-www-form-urlencoded",
          expect("auto_replied", p, message_id=False), mailgun_signing_key=MAILGUN_SIGNING_KEY)


def mailgun_bounce_mime():
    p = SAM
    boundary = "5b1f7e0c3a9d4e62b8c1f0a7d3e9b2c4"
    mime = dsn_mime(
        p,
        reporter="mx.creator.example",
        remote_mta="store2.creator.example",
        queue_id="7E6D5C4B3A",
        arrival="Mon,  2 Nov 2026 10:00:04 +0000 (UTC)",
        attempt="Mon,  2 Nov 2026 10:00:06 +0000 (UTC)",
        smtp_reply=f"552 5.2.2 <{p.email}>: Mailbox full, quota exceeded",
        status="5.2.2",
        human_reason=(f"host store2.creator.example[198.51.100.77] said: 552 5.2.2\n"
                      f"    <{p.email}>: Mailbox full, quota exceeded (in reply to end of DATA\n"
                      f"    command)"),
        received_line=("Received: from mx.creator.example (mx.creator.example [198.51.100.20])\n"
                       " by mxa.mailgun.org with ESMTP id 67f1c2d3e4a5b6c7d8e9f0bb;\n"
                       " Mon, 02 Nov 2026 10:00:07 GMT\n"),
    )
    token = "9c2e5a8d1f4b7e0c3a6d9f2b5e8a1c4d7f0b3e6a9c2d5f8b1e"
    assert len(token) == 50
    fields = [
        ("recipient", OURS),
        # null reverse-path <>; Mailgun's rendering of it is undocumented, fixture uses ""
        ("sender", ""),
        ("from", "MAILER-DAEMON@mx.creator.example (Mail Delivery System)"),
        ("subject", "Undelivered Mail Returned to Sender"),
        ("body-mime", mime),
    ] + mailgun_common("1793613607", token)
    ct = f"multipart/form-data; boundary={boundary}"
    write("mailgun/bounce-mime.multipart", multipart(boundary, fields), ct,
          expect("bounced", p, message_id=True, token=True), mailgun_signing_key=MAILGUN_SIGNING_KEY)


# ---------------------------------------------------------------------------
# Postmark inbound webhook
# ---------------------------------------------------------------------------

def pm_addr(person_or_email, name=""):
    if isinstance(person_or_email, Person):
        return {"Email": person_or_email.email, "Name": person_or_email.name, "MailboxHash": ""}
    return {"Email": person_or_email, "Name": name, "MailboxHash": ""}


def postmark_reply():
    p = MAYA
    doc = {
        "FromName": p.name,
        "MessageStream": "inbound",
        "From": p.email,
        "FromFull": pm_addr(p),
        "To": f"\"Brand Outreach\" <{OURS}>",
        "ToFull": [pm_addr(OURS, "Brand Outreach")],
        "Cc": "",
        "CcFull": [],
        "Bcc": "",
        "BccFull": [],
        "OriginalRecipient": OURS,
        "Subject": f"Re: {CAMPAIGN_SUBJECT}",
        "MessageID": "5c0b3e1a-7d24-4f6e-9a8b-2c1d0e9f8a7b",
        "ReplyTo": "",
        "MailboxHash": "",
        "Date": "Mon, 2 Nov 2026 15:12:03 +0100",
        "TextBody": MAYA_REPLY_TEXT + original_quote(p),
        "HtmlBody": MAYA_REPLY_HTML,
        "StrippedTextReply": MAYA_REPLY_TEXT.rstrip("\n"),
        "Tag": "",
        "Headers": [
            {"Name": "Return-Path", "Value": f"<{p.email}>"},
            {"Name": "Received", "Value": "by p-pm-inboundg02a-aws-euwest1a.inbound.postmarkapp.com (Postfix, from "
                                          "userid 996) id 1F2E3D4C5B; Mon,  2 Nov 2026 14:12:10 +0000 (UTC)"},
            {"Name": "X-Spam-Checker-Version", "Value": "SpamAssassin 3.4.6 (2021-04-09) on "
                                                        "p-pm-inboundg02a-aws-euwest1a"},
            {"Name": "X-Spam-Status", "Value": "No"},
            {"Name": "X-Spam-Score", "Value": "-0.1"},
            {"Name": "X-Spam-Tests", "Value": "DKIM_SIGNED,DKIM_VALID,DKIM_VALID_AU,SPF_HELO_NONE,SPF_PASS"},
            {"Name": "Received-SPF", "Value": "pass (creator.example: Sender is authorized to use "
                                              "'maya@creator.example' in 'mfrom' identity) "
                                              "receiver=p-pm-inboundg02a-aws-euwest1a; identity=mailfrom; "
                                              "envelope-from=\"maya@creator.example\"; helo=mail-yw1-f170.creator.example; "
                                              "client-ip=198.51.100.23"},
            {"Name": "Received", "Value": "from mail-yw1-f170.creator.example (mail-yw1-f170.creator.example "
                                          "[198.51.100.23]) (using TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 "
                                          "(128/128 bits)) (No client certificate requested) by "
                                          "p-pm-inboundg02a-aws-euwest1a.inbound.postmarkapp.com (Postfix) with "
                                          "ESMTPS id 0A9B8C7D6E for <outreach@brand.example>; Mon,  2 Nov 2026 "
                                          "14:12:09 +0000 (UTC)"},
            {"Name": "DKIM-Signature", "Value": "v=1; a=rsa-sha256; c=relaxed/relaxed; d=creator.example; s=s2026; "
                                                "t=1793628723; h=to:subject:message-id:date:from:in-reply-to:"
                                                "references:mime-version; bh=frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=; "
                                                "b=Yq3mZfixtureonly"},
            {"Name": "MIME-Version", "Value": "1.0"},
            {"Name": "References", "Value": f"<{p.our_id}>"},
            {"Name": "In-Reply-To", "Value": f"<{p.our_id}>"},
            {"Name": "Message-ID", "Value": "<CAK7fQ2xR8mPz1vN0bWq4Ht6LkYc3eUd@mail.creator.example>"},
        ],
        "Attachments": [],
    }
    write("postmark/reply.json", json.dumps(doc, indent=2, ensure_ascii=False) + "\n", "application/json",
          expect("replied", p))


def postmark_autoreply():
    p = LEO
    subject = f"Out of Office: {CAMPAIGN_SUBJECT}"
    text = (
        "Thanks for your message. I'm on a shoot until Friday 6 November and will\n"
        "reply when I'm back. For studio bookings, contact hello@studio.example.\n"
        "\n"
        "Leo\n"
    )
    doc = {
        "FromName": p.name,
        "MessageStream": "inbound",
        "From": p.email,
        "FromFull": pm_addr(p),
        "To": OURS,
        "ToFull": [pm_addr(OURS)],
        "Cc": "",
        "CcFull": [],
        "Bcc": "",
        "BccFull": [],
        "OriginalRecipient": OURS,
        "Subject": subject,
        "MessageID": "e3f1a2b4-0c6d-4e8f-a1b3-c5d7e9f0a2b4",
        "ReplyTo": "",
        "MailboxHash": "",
        "Date": "Mon, 2 Nov 2026 11:00:14 +0100",
        "TextBody": text,
        "HtmlBody": "",
        "StrippedTextReply": "",
        "Tag": "",
        "Headers": [
            {"Name": "Return-Path", "Value": f"<{p.email}>"},
            {"Name": "Received", "Value": "by p-pm-inboundg01c-aws-useast1c.inbound.postmarkapp.com (Postfix, from "
                                          "userid 996) id 6A5B4C3D2E; Mon,  2 Nov 2026 10:00:15 +0000 (UTC)"},
            {"Name": "X-Spam-Checker-Version", "Value": "SpamAssassin 3.4.6 (2021-04-09) on "
                                                        "p-pm-inboundg01c-aws-useast1c"},
            {"Name": "X-Spam-Status", "Value": "No"},
            {"Name": "X-Spam-Score", "Value": "0.2"},
            {"Name": "X-Spam-Tests", "Value": "DKIM_SIGNED,DKIM_VALID,SPF_PASS,TVD_SPACE_RATIO"},
            {"Name": "Received-SPF", "Value": "pass (studio.example: 203.0.113.45 is authorized to use "
                                              "'leo@studio.example' in 'mfrom' identity) "
                                              "receiver=p-pm-inboundg01c-aws-useast1c; identity=mailfrom; "
                                              "envelope-from=\"leo@studio.example\"; helo=smtp.studio.example; "
                                              "client-ip=203.0.113.45"},
            {"Name": "Received", "Value": "from smtp.studio.example (smtp.studio.example [203.0.113.45]) by "
                                          "p-pm-inboundg01c-aws-useast1c.inbound.postmarkapp.com (Postfix) with "
                                          "ESMTPS id 7B6C5D4E3F for <outreach@brand.example>; Mon,  2 Nov 2026 "
                                          "10:00:14 +0000 (UTC)"},
            {"Name": "Auto-Submitted", "Value": "auto-replied (vacation)"},
            {"Name": "X-Autoreply", "Value": "yes"},
            {"Name": "Precedence", "Value": "bulk"},
            {"Name": "In-Reply-To", "Value": f"<{p.our_id}>"},
            {"Name": "References", "Value": f"<{p.our_id}>"},
            {"Name": "MIME-Version", "Value": "1.0"},
            {"Name": "Message-ID", "Value": "<20261102100014.vac.4f2a@smtp.studio.example>"},
        ],
        "Attachments": [],
    }
    write("postmark/autoreply.json", json.dumps(doc, indent=2, ensure_ascii=False) + "\n", "application/json",
          expect("auto_replied", p))


# ---------------------------------------------------------------------------
# Amazon SES receipt rule -> SNS action
# ---------------------------------------------------------------------------
SES_TOPIC = "arn:aws:sns:us-east-1:123456789012:seqbridge-inbound"
SNS_CT = "text/plain; charset=UTF-8"  # SNS's default Content-Type for HTTP(S) deliveries


def split_headers(raw):
    """(name, value) pairs from a CRLF message, unfolded the way SES reports them."""
    head = raw.split("\r\n\r\n", 1)[0]
    out = []
    for line in head.split("\r\n"):
        if line[:1] in (" ", "\t") and out:
            out[-1][1] += " " + line.strip()
        else:
            k, v = line.split(":", 1)
            out.append([k, v.strip()])
    return [{"name": k, "value": v} for k, v in out]


def ses_notification(raw_bytes, encoding, person, ses_id, when, sns_id, sns_time, subject, hdr_date,
                     hdr_msgid, to_list, verdicts=None):
    text = raw_bytes.decode("utf-8")
    headers = split_headers(text)
    common = {
        "returnPath": person.email,
        "from": [person.full],
        "date": hdr_date,
        "to": to_list,
        "messageId": hdr_msgid,
        "subject": subject,
    }
    verdicts = verdicts or {}
    message = {
        "notificationType": "Received",
        "mail": {
            "timestamp": when,
            "source": person.email,
            "messageId": ses_id,
            "destination": [OURS],
            "headersTruncated": False,
            "headers": headers,
            "commonHeaders": common,
        },
        "receipt": {
            "timestamp": when,
            "processingTimeMillis": 412,
            "recipients": [OURS],
            "spamVerdict": {"status": verdicts.get("spam", "PASS")},
            "virusVerdict": {"status": "PASS"},
            "spfVerdict": {"status": "PASS"},
            "dkimVerdict": {"status": "PASS"},
            "dmarcVerdict": {"status": "PASS"},
            "action": {"type": "SNS", "topicArn": SES_TOPIC, "encoding": encoding},
        },
        "content": text if encoding == "UTF8" else base64.b64encode(raw_bytes).decode("ascii"),
    }
    envelope = {
        "Type": "Notification",
        "MessageId": sns_id,
        "TopicArn": SES_TOPIC,
        "Subject": "Amazon SES Email Receipt Notification",
        "Message": json.dumps(message, ensure_ascii=False, separators=(",", ":")),
        "Timestamp": sns_time,
        "SignatureVersion": "2",
        # Left empty like the other SNS fixtures: tests sign with their own key.
        "Signature": "",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem",
        "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn="
                          f"{SES_TOPIC}:5f0e9d8c-7b6a-4c5d-9e8f-1a2b3c4d5e6f",
    }
    return json.dumps(envelope, indent=2, ensure_ascii=False) + "\n"


def maya_reply_mime(received_by):
    p = MAYA
    b = "000000000000e4a1b2c3d4e5f60718"
    text = MAYA_REPLY_TEXT + original_quote(p)
    # no inline logo in this copy of the message
    html_qp = qp_soft(MAYA_REPLY_HTML.replace(
        '<img src="cid:ii_maya_logo01" alt="Maya Chen" width="1" height="1">', ''))
    return crlf(
        f"Return-Path: <{p.email}>\n"
        f"Received: from mail-yw1-f170.creator.example (mail-yw1-f170.creator.example [198.51.100.23])\n"
        f" by {received_by} with SMTP id 2c9k1e4o7v0n3a6d9g2j5m8p1s4v\n"
        f" for {OURS};\n"
        f" Mon, 02 Nov 2026 14:12:09 +0000 (UTC)\n"
        f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=creator.example; s=s2026; t=1793628723;\n"
        f" h=to:subject:message-id:date:from:in-reply-to:references:mime-version;\n"
        f" bh=frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=; b=Yq3mZfixtureonly\n"
        f"MIME-Version: 1.0\n"
        f"References: <{p.our_id}>\n"
        f"In-Reply-To: <{p.our_id}>\n"
        f"From: {p.full}\n"
        f"Date: Mon, 2 Nov 2026 15:12:03 +0100\n"
        f"Message-ID: <CAK7fQ2xR8mPz1vN0bWq4Ht6LkYc3eUd@mail.creator.example>\n"
        f"Subject: Re: {CAMPAIGN_SUBJECT}\n"
        f"To: {OURS_FULL}\n"
        f"Content-Type: multipart/alternative; boundary=\"{b}\"\n"
        f"\n"
        f"--{b}\n"
        f"Content-Type: text/plain; charset=\"UTF-8\"\n"
        f"Content-Transfer-Encoding: quoted-printable\n"
        f"\n"
        f"{qp_soft(text)}"
        f"\n"
        f"--{b}\n"
        f"Content-Type: text/html; charset=\"UTF-8\"\n"
        f"Content-Transfer-Encoding: quoted-printable\n"
        f"\n"
        f"{html_qp}"
        f"\n"
        f"--{b}--\n"
    )


def ses_reply_utf8():
    p = MAYA
    raw = maya_reply_mime("inbound-smtp.us-east-1.amazonaws.com").encode("utf-8")
    body = ses_notification(raw, "UTF8", p, "q8v3n1e5k7o2m4c6a9s0d1f3h5j7l9p2r4t6v8x0", "2026-11-02T14:12:09.871Z",
                            "7c5e1b3a-9d2f-5e4c-8a6b-0f1e2d3c4b5a", "2026-11-02T14:12:10.284Z",
                            f"Re: {CAMPAIGN_SUBJECT}", "Mon, 2 Nov 2026 15:12:03 +0100",
                            "<CAK7fQ2xR8mPz1vN0bWq4Ht6LkYc3eUd@mail.creator.example>", [OURS_FULL])
    write("ses/reply-utf8.json", body, SNS_CT, expect("replied", p))


def ses_reply_base64():
    """Leo's reply with a raw 8-bit UTF-8 body: the case BASE64 encoding exists for."""
    p = LEO
    b = "=_studio_8bit_2f4e6a8c"
    text = (
        "Salut l'équipe,\n"
        "\n"
        "Ça me va très bien — je suis partant pour la série d'été.\n"
        "Envoyez-moi le brief et les conditions d'utilisation ; je réponds d'ici jeudi.\n"
        "\n"
        "Grüße aus dem Studio,\n"
        "Leo\n"
        "\n"
    ) + original_quote(p, "2 Nov 2026, at 10:00")
    raw = crlf(
        f"Return-Path: <{p.email}>\n"
        f"Received: from smtp.studio.example (smtp.studio.example [203.0.113.45])\n"
        f" by inbound-smtp.us-east-1.amazonaws.com with SMTP id h3k5m7o9q1s3u5w7y9a1c3e5g7i9k1m3o5q7s9u1\n"
        f" for {OURS};\n"
        f" Tue, 03 Nov 2026 08:41:27 +0000 (UTC)\n"
        f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=studio.example; s=mail;\n"
        f" h=from:to:subject:date:message-id:in-reply-to:references:mime-version:content-type;\n"
        f" bh=Zk3mN7qfixtureonly=; b=Lx9fixtureonly\n"
        f"From: {p.full}\n"
        f"To: {OURS_FULL}\n"
        f"Subject: =?UTF-8?Q?Re=3A_Summer_launch_collab_with_Brand=3F_=E2=80=94_partant_!?=\n"
        f"Date: Tue, 3 Nov 2026 09:41:19 +0100\n"
        f"Message-ID: <8bit-2f4e6a8c1d3b@studio.example>\n"
        f"In-Reply-To: <{p.our_id}>\n"
        f"References: <{p.our_id}>\n"
        f"MIME-Version: 1.0\n"
        f"Content-Type: multipart/alternative; boundary=\"{b}\"\n"
        f"\n"
        f"--{b}\n"
        f"Content-Type: text/plain; charset=utf-8; format=flowed\n"
        f"Content-Transfer-Encoding: 8bit\n"
        f"\n"
        f"{text}"
        f"\n"
        f"--{b}\n"
        f"Content-Type: text/html; charset=utf-8\n"
        f"Content-Transfer-Encoding: 8bit\n"
        f"\n"
        f"<p>Salut l'équipe,</p><p>Ça me va très bien — je suis partant pour la série d'été.<br>"
        f"Envoyez-moi le brief et les conditions d'utilisation ; je réponds d'ici jeudi.</p>"
        f"<p>Grüße aus dem Studio,<br>Leo</p>\n"
        f"\n"
        f"--{b}--\n"
    ).encode("utf-8")
    body = ses_notification(raw, "BASE64", p, "b2d4f6h8j0l2n4p6r8t0v2x4z6a8c0e2g4i6k8m0", "2026-11-03T08:41:27.512Z",
                            "3e9a1c5d-7b2f-5a4e-9c8d-6b0a1f2e3d4c", "2026-11-03T08:41:28.019Z",
                            f"Re: {CAMPAIGN_SUBJECT} \u2014 partant !", "Tue, 3 Nov 2026 09:41:19 +0100",
                            "<8bit-2f4e6a8c1d3b@studio.example>", [OURS_FULL])
    write("ses/reply-base64.json", body, SNS_CT, expect("replied", p))


def ses_autoreply():
    p = PRIYA
    subject = f"Out of Office: {CAMPAIGN_SUBJECT}"
    raw = crlf(
        f"Return-Path: <{p.email}>\n"
        f"Received: from mail-ot1-f41.creator.example (mail-ot1-f41.creator.example [198.51.100.41])\n"
        f" by inbound-smtp.us-east-1.amazonaws.com with SMTP id r1t3v5x7z9b1d3f5h7j9l1n3p5r7t9v1x3z5b7d9\n"
        f" for {OURS};\n"
        f" Mon, 02 Nov 2026 10:00:31 +0000 (UTC)\n"
        f"MIME-Version: 1.0\n"
        f"From: {p.full}\n"
        f"To: {OURS_FULL}\n"
        f"Subject: {subject}\n"
        f"Date: Mon, 2 Nov 2026 15:30:30 +0530\n"
        f"Message-ID: <CAPr1yaOoO7v5x2k9LmQn3Rt@mail.creator.example>\n"
        f"In-Reply-To: <{p.our_id}>\n"
        f"References: <{p.our_id}>\n"
        f"Auto-Submitted: auto-replied\n"
        f"X-Autoreply: yes\n"
        f"Precedence: bulk\n"
        f"Content-Type: text/plain; charset=\"UTF-8\"\n"
        f"Content-Transfer-Encoding: 7bit\n"
        f"\n"
        f"{ooo_text(p)}"
    ).encode("utf-8")
    body = ses_notification(raw, "UTF8", p, "m1o3q5s7u9w1y3a5c7e9g1i3k5m7o9q1s3u5w7y9", "2026-11-02T10:00:31.204Z",
                            "a1b2c3d4-e5f6-5a7b-8c9d-0e1f2a3b4c5d", "2026-11-02T10:00:31.733Z",
                            subject, "Mon, 2 Nov 2026 15:30:30 +0530",
                            "<CAPr1yaOoO7v5x2k9LmQn3Rt@mail.creator.example>", [OURS_FULL])
    write("ses/autoreply.json", body, SNS_CT, expect("auto_replied", p))


if __name__ == "__main__":
    sendgrid_reply_parsed()
    sendgrid_reply_raw()
    sendgrid_autoreply()
    sendgrid_bounce_raw()
    mailgun_reply()
    mailgun_autoreply()
    mailgun_bounce_mime()
    postmark_reply()
    postmark_autoreply()
    ses_reply_utf8()
    ses_reply_base64()
    ses_autoreply()
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        f.write(json.dumps(manifest, indent=2) + "\n")
