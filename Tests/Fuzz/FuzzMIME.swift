// libFuzzer entry point for the MIME reader and the classifier (`make fuzz`).
import SeqbridgeCore
import SeqbridgeInbound
import SeqbridgeMIME

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMIME(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let message = MIMEReader.parse(bytes)
    for part in message.allParts.prefix(50) {
        _ = part.text
        _ = part.embedded().headers.count
    }
    _ = EncodedWords.decode(bytes)
    _ = MailClassifier.classify(bytes, source: "fuzz", receivedAt: Timestamp(millisecondsSinceEpoch: 1_793_613_600_000))
    return 0
}
