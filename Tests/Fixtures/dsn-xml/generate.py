#!/usr/bin/env python3
"""Regenerates the XML delivery-status-report fixtures in this directory.

Run: python3 Tests/Fixtures/dsn-xml/generate.py
Deterministic output; the files are plain UTF-8 with LF line ends.
The hostile files (entities, DOCTYPEs) are written as text and must never be
fed to a parser that resolves DTDs or entities.
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))

MAYA_ID = "&lt;sb.0h3kq2m9xabcdefghijklmnop@brand.example&gt;"
LEO_ID = "&lt;sb.0h3kq2m9xqrstuvwxyz012345@brand.example&gt;"


def recipient(addr, action, status, remote, diag, last, will_retry=None, indent="  "):
    i2 = indent * 2
    lines = [
        f"{indent}<recipient>",
        f"{i2}<original-recipient>rfc822; {addr}</original-recipient>",
        f"{i2}<final-recipient>rfc822; {addr}</final-recipient>",
        f"{i2}<action>{action}</action>",
        f"{i2}<status>{status}</status>",
        f"{i2}<remote-mta>dns; {remote}</remote-mta>",
        f"{i2}<diagnostic-code>smtp; {diag}</diagnostic-code>",
        f"{i2}<last-attempt-date>{last}</last-attempt-date>",
    ]
    if will_retry:
        lines.append(f"{i2}<will-retry-until>{will_retry}</will-retry-until>")
    lines.append(f"{indent}</recipient>")
    return "\n".join(lines) + "\n"


def report(msg_id, recipients, arrival="Mon, 2 Nov 2026 10:00:00 +0000", mta="mta1.brand.example",
           root="delivery-status-report", prolog=""):
    return (
        f"{prolog}<{root}>\n"
        f"  <reporting-mta>dns; {mta}</reporting-mta>\n"
        f"  <original-message-id>{msg_id}</original-message-id>\n"
        f"  <arrival-date>{arrival}</arrival-date>\n"
        f"{recipients}"
        f"</{root}>\n"
    )


def write(name, text):
    with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


LEO_FAILED = recipient(
    "leo@studio.example", "failed", "5.1.1", "mx1.studio.example",
    "550 5.1.1 &lt;leo@studio.example&gt;: Recipient address rejected: User unknown",
    "Mon, 2 Nov 2026 10:00:05 +0000")

write("single-failed.xml", report(LEO_ID, LEO_FAILED))

write("three-recipients.xml", report(MAYA_ID,
    recipient("leo@studio.example", "failed", "5.1.1", "mx1.studio.example",
              "550 5.1.1 &lt;leo@studio.example&gt;: Recipient address rejected: User unknown",
              "Mon, 2 Nov 2026 10:00:05 +0000")
    + recipient("maya@creator.example", "delayed", "4.2.2", "mx.creator.example",
                "452 4.2.2 &lt;maya@creator.example&gt;: Mailbox full, try again later",
                "Mon, 2 Nov 2026 10:00:06 +0000", will_retry="Thu, 5 Nov 2026 10:00:00 +0000")
    + recipient("priya@creator.example", "failed", "5.7.1", "mx.creator.example",
                "550 5.7.1 Message rejected as spam by content filter",
                "Mon, 2 Nov 2026 10:00:07 +0000")))

write("delayed.xml", report(MAYA_ID, recipient(
    "maya@creator.example", "delayed", "4.4.1", "mx.creator.example",
    "421 4.4.1 Connection timed out while talking to mx.creator.example",
    "Mon, 2 Nov 2026 14:00:00 +0000", will_retry="Thu, 5 Nov 2026 10:00:00 +0000")))

write("with-xml-declaration-utf8.xml", report(
    LEO_ID,
    recipient("leo@studio.example", "failed", "5.1.1", "mx1.studio.example",
              "550 5.1.1 &lt;leo@studio.example&gt;: Empfänger unbekannt – "
              "l’adresse n’existe pas (用户不存在)",
              "Mon, 2 Nov 2026 10:00:05 +0000"),
    prolog='<?xml version="1.0" encoding="UTF-8"?>\n'))

# Truncated in the middle of a recipient: not well-formed.
full = report(LEO_ID, LEO_FAILED)
cut = full.index("<action>failed</action>") + len("<action>fai")
write("malformed-unclosed.xml", full[:cut])

write("wrong-root.xml", report(LEO_ID, LEO_FAILED, root="delivery-report"))

XXE_DIAG = "550 5.1.1 &xxe;"
write("external-entity.xml",
      '<?xml version="1.0" encoding="UTF-8"?>\n'
      '<!DOCTYPE delivery-status-report [\n'
      '  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n'
      ']>\n'
      + report(LEO_ID, recipient("leo@studio.example", "failed", "5.1.1", "mx1.studio.example", XXE_DIAG,
                                 "Mon, 2 Nov 2026 10:00:05 +0000")))

write("external-http-entity.xml",
      '<?xml version="1.0" encoding="UTF-8"?>\n'
      '<!DOCTYPE delivery-status-report [\n'
      '  <!ENTITY xxe SYSTEM "http://127.0.0.1:9/x">\n'
      ']>\n'
      + report(LEO_ID, recipient("leo@studio.example", "failed", "5.1.1", "mx1.studio.example", XXE_DIAG,
                                 "Mon, 2 Nov 2026 10:00:05 +0000")))

write("parameter-entity.xml",
      '<?xml version="1.0" encoding="UTF-8"?>\n'
      '<!DOCTYPE delivery-status-report [\n'
      '  <!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd">\n'
      '  %remote;\n'
      ']>\n'
      + report(LEO_ID, LEO_FAILED))

lol = ['  <!ENTITY lol "lol">']
lol.append('  <!ENTITY lol1 "' + "&lol;" * 10 + '">')
for n in range(2, 10):
    lol.append(f'  <!ENTITY lol{n} "' + f"&lol{n-1};" * 10 + '">')
write("billion-laughs.xml",
      '<?xml version="1.0"?>\n'
      '<!DOCTYPE delivery-status-report [\n'
      + "\n".join(lol) + "\n"
      ']>\n'
      + report(LEO_ID, recipient("leo@studio.example", "failed", "5.1.1", "mx1.studio.example",
                                 "550 5.1.1 &lol9;", "Mon, 2 Nov 2026 10:00:05 +0000")))

# One 50,000-character entity referenced 50,000 times: ~200 KB on disk,
# 2.5 GB if expanded. No nesting, so depth limits alone do not catch it.
refs = "&a;" * 50000
write("quadratic-blowup.xml",
      '<?xml version="1.0"?>\n'
      '<!DOCTYPE delivery-status-report [\n'
      '  <!ENTITY a "' + "a" * 50000 + '">\n'
      ']>\n'
      + report(LEO_ID, recipient("leo@studio.example", "failed", "5.1.1", "mx1.studio.example",
                                 "550 5.1.1 " + refs, "Mon, 2 Nov 2026 10:00:05 +0000")))

write("missing-recipient.xml", report(LEO_ID, ""))
