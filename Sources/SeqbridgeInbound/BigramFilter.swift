/// Which byte pairs a text holds, hashed into 4,096 bits. A phrase whose first
/// or last pair is missing cannot be in the text, so most searches are skipped.
struct BigramFilter {
    private let bits: UnsafeMutableBufferPointer<UInt64>

    @inline(__always) static func bigram(_ a: UInt8, _ b: UInt8) -> Int { (Int(a) &* 31 &+ Int(b)) & 4095 }

    /// Runs `body` with the filter of `text`, built on the stack.
    static func with<Result>(_ text: [UInt8], _ body: (BigramFilter) -> Result) -> Result {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 64) { bits in
            bits.initialize(repeating: 0)
            text.withUnsafeBufferPointer { text in
                guard text.count > 1 else { return }
                for index in 1..<text.count {
                    let pair = bigram(text[index - 1], text[index])
                    bits[pair >> 6] |= 1 << UInt64(pair & 63)
                }
            }
            return body(BigramFilter(bits: bits))
        }
    }

    @inline(__always) func has(_ pair: Int) -> Bool { bits[pair >> 6] & (1 << UInt64(pair & 63)) != 0 }

    /// False when the phrase's first or last pair is absent; true means "search to know".
    @inline(__always) func mayContain(first: Int, last: Int) -> Bool { has(first) && has(last) }

    func mayContain(_ phrase: [UInt8]) -> Bool {
        guard phrase.count >= 2 else { return true }
        return mayContain(
            first: Self.bigram(phrase[0], phrase[1]),
            last: Self.bigram(phrase[phrase.count - 2], phrase[phrase.count - 1]))
    }
}
