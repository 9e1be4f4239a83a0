// libFuzzer entry point for the XML delivery status report parser (`make fuzz`).
import SeqbridgeCore
import SeqbridgeInbound

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzXML(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? XMLReports.parse(bytes, receivedAt: Timestamp(millisecondsSinceEpoch: 1_793_613_600_000))
    return 0
}
