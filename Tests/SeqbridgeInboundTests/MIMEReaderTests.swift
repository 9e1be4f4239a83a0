import SeqbridgeMIME
import Testing

@Suite struct MIMEReaderTests {
    func parse(_ text: String) -> MIMEPart { MIMEReader.parse(Array(text.utf8)) }

    @Test func unfoldsHeadersAndReadsBody() {
        let message = parse("Subject: a long\n  subject line\nX-Empty:\nFrom: Maya <maya@creator.example>\n\nHello\n")
        #expect(message.header("subject") == "a long  subject line")
        #expect(message.header("x-empty") == "")
        #expect(message.header("FROM") == "Maya <maya@creator.example>")
        #expect(message.text == "Hello\n")
    }

    @Test(arguments: ["\r\n", "\n", "\r"])
    func lineEndsGiveTheSameStructure(_ end: String) {
        let text = [
            "Content-Type: multipart/mixed; boundary=\"b1\"", "", "preamble", "--b1", "Content-Type: text/plain", "",
            "first", "--b1", "Content-Type: text/html", "", "<p>second</p>", "--b1--", "epilogue",
        ].joined(separator: end)
        let message = MIMEReader.parse(Array(text.utf8))
        #expect(message.parts.count == 2)
        #expect(message.parts[0].text == "first")
        #expect(message.parts[1].contentType.mimeType == "text/html")
        #expect(message.parts[1].text == "<p>second</p>")
    }

    @Test func encodedWordsInSeveralCharsets() {
        let cases: [(String, String)] = [
            ("=?UTF-8?B?UsOpcG9uc2UgYXV0b21hdGlxdWU=?=", "Réponse automatique"),
            ("=?iso-8859-1?q?R=E9ponse_automatique?=", "Réponse automatique"),
            ("=?utf-8?q?a?= =?utf-8?q?b?=", "ab"),
            ("plain =?utf-8?q?x?= text", "plain x text"),
            ("=?ISO-2022-JP?B?GyRCPCtGMDF+RXobKEI=?=", "自動応答"),
            ("=?Shift_JIS?B?jqmTromek5o=?=", "自動応答"),
            ("=?windows-1252?Q?caf=E9_=96_ok?=", "café – ok"),
            ("=?utf-8?x?broken?=", "=?utf-8?x?broken?="),
            ("=?unknown-charset?B?aGk=?=", "hi"),
        ]
        for (encoded, expected) in cases {
            #expect(EncodedWords.decode(Array(encoded.utf8)) == expected, "\(encoded)")
        }
    }

    @Test func transferEncodingsAreLenient() {
        #expect(TransferEncoding.base64(Array("aGVs\nbG8=".utf8)) == Array("hello".utf8))
        #expect(TransferEncoding.base64(Array("aGV!!sbG8".utf8)) == Array("hello".utf8))
        #expect(
            TransferEncoding.quotedPrintable(Array("caf=C3=A9 =\nlong=ZZ end=".utf8)) == Array("café long=ZZ end".utf8))
    }

    @Test func bodiesInTheirCharsets() {
        let latin = MIMEReader.parse(
            [UInt8]("Content-Type: text/plain; charset=iso-8859-1\n\ncaf".utf8) + [0xE9])
        #expect(latin.text == "café")
        let unlabelled = MIMEReader.parse([UInt8]("Subject: x\n\ncaf".utf8) + [0xE9])
        #expect(unlabelled.text == "café")
        let sjis = MIMEReader.parse(
            [UInt8]("Content-Type: text/plain; charset=Shift_JIS\n\n".utf8) + [0x8E, 0xA9, 0x93, 0xAE])
        #expect(sjis.text == "自動")
        let base64 = parse("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\nw6k=\n")
        #expect(base64.text == "é")
    }

    @Test func brokenStructureDegradesWithoutFailing() {
        // No closing boundary: the last part runs to the end.
        let open = parse("Content-Type: multipart/mixed; boundary=x\n\n--x\n\nonly part\n")
        #expect(open.parts.count == 1)
        #expect(open.parts[0].text == "only part\n")
        // A boundary that never appears: no parts, the body is kept.
        let missing = parse("Content-Type: multipart/mixed; boundary=nothere\n\nbody text\n")
        #expect(missing.parts.isEmpty)
        #expect(missing.text == "body text\n")
        // A line that is not a header ends the header block.
        let sloppy = parse("Subject: ok\nthis is not a header\nmore\n")
        #expect(sloppy.header("subject") == "ok")
        #expect(sloppy.text == "this is not a header\nmore\n")
        #expect(parse("").headers.isEmpty)
    }

    @Test func nestingIsBounded() {
        var text = ""
        for level in 0..<40 { text += "Content-Type: multipart/mixed; boundary=b\(level)\n\n--b\(level)\n" }
        text += "Content-Type: text/plain\n\ndeep\n"
        let message = MIMEReader.parse(Array(text.utf8))
        var depth = 0
        var part = message
        while let child = part.parts.first {
            part = child
            depth += 1
        }
        #expect(depth == MIMELimits.standard.maxDepth)
    }

    @Test func datesInTheFormsMailUses() {
        #expect(MailDate.parse("Mon, 2 Nov 2026 10:00:00 +0000") == 1_793_613_600_000)
        #expect(MailDate.parse("2 Nov 2026 11:00:00 +0100") == 1_793_613_600_000)
        #expect(MailDate.parse("Mon, 2 Nov 26 05:00:00 EST") == 1_793_613_600_000)
        #expect(MailDate.parse("Mon, 2 Nov 2026 10:00 GMT (comment)") == 1_793_613_600_000)
        #expect(MailDate.parse("not a date") == nil)
    }

    @Test func addressesAndMessageIDs() {
        #expect(AddressScan.first(in: "\"a@b\" <Maya@Creator.Example>") == "maya@creator.example")
        #expect(AddressScan.addresses(in: "<leo@studio.example>: host said 550. Also x@y.") == ["leo@studio.example"])
        #expect(AddressScan.messageIDs(in: "<a@x> <b@y>\n <a@x>") == ["a@x", "b@y"])
    }
}
