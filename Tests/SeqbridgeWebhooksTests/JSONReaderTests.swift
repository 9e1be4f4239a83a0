import Foundation
import Testing

@testable import SeqbridgeWebhooks

/// The reader must see every document exactly as `JSONSerialization` does.
@Suite struct JSONReaderTests {
    /// A comparable rendering of what either parser produced.
    static func render(_ value: Any) -> String {
        switch value {
        case let object as [String: Any]:
            return "{"
                + object.keys.sorted().map { "\($0.debugDescription):\(render(object[$0]!))" }
                .joined(separator: ",") + "}"
        case let list as [Any]: return "[" + list.map(render).joined(separator: ",") + "]"
        case let text as String: return text.debugDescription
        case is NSNull: return "null"
        case let number as NSNumber:
            // Fractions to 12 digits: Foundation's own digit arithmetic may land one
            // double away from the correctly rounded one (`Double(String)`).
            let value = number.doubleValue
            return value.isFinite && value != value.rounded() ? String(format: "%.12g", value) : number.stringValue
        default: return "?\(type(of: value))"
        }
    }

    static func foundation(_ bytes: [UInt8]) -> String? {
        guard let value = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) else {
            return nil
        }
        return render(value)
    }

    static func ours(_ bytes: [UInt8]) -> String? {
        guard let value = try? JSONReader.read(bytes).value else { return nil }
        return render(value)
    }

    @Test func everyWebhookFixtureReadsAsFoundationReadsIt() throws {
        let files = FileManager.default.enumerator(at: fixtures, includingPropertiesForKeys: nil)!
        var compared = 0
        for case let url as URL in files where url.pathExtension == "json" {
            let bytes = Array(try Data(contentsOf: url))
            #expect(Self.ours(bytes) == Self.foundation(bytes), "\(url.lastPathComponent)")
            compared += 1
        }
        #expect(compared > 40)
    }

    @Test func generatedDocumentsReadAsFoundationReadsThem() {
        var random = SeededRandom(seed: 20_261_129)
        for round in 0..<2_000 {
            let text = Self.document(depth: 0, random: &random)
            let bytes = Array(text.utf8)
            #expect(Self.ours(bytes) == Self.foundation(bytes), "round \(round): \(text)")
        }
    }

    /// Fixtures with bytes flipped, cut, doubled or dropped (fixed seed): the
    /// reader never traps, and whatever both readers accept, they read alike.
    @Test func mangledFixturesNeverTrapAndAgreeWhereBothAccept() throws {
        let files = FileManager.default.enumerator(at: fixtures, includingPropertiesForKeys: nil)!
        var originals: [[UInt8]] = []
        for case let url as URL in files where url.pathExtension == "json" {
            originals.append(Array(try Data(contentsOf: url)))
        }
        var random = SeededRandom(seed: 3_464)
        let alphabet = Array(#"{}[],:"\ 0123456789-.eE+tfnulrsa"#.utf8) + [0, 0xC3, 0xA9, 0xFF, 0xED, 0xA0]
        var bothAccepted = 0
        for round in 0..<3_000 {
            var bytes = originals[random.next(upTo: originals.count)]
            for _ in 0...random.next(upTo: 4) where !bytes.isEmpty {
                let at = random.next(upTo: bytes.count)
                switch random.next(upTo: 4) {
                case 0: bytes[at] = alphabet[random.next(upTo: alphabet.count)]
                case 1: bytes.removeSubrange(at...)
                case 2: bytes.insert(bytes[at], at: at)
                default: bytes.remove(at: at)
                }
            }
            // Invalid UTF-8 is repaired by us and refused or kept otherwise by Foundation: not compared.
            let ours = Self.ours(bytes)
            if let ours, String(validating: bytes, as: UTF8.self) != nil, let theirs = Self.foundation(bytes) {
                #expect(ours == theirs, "round \(round)")
                bothAccepted += 1
            }
        }
        #expect(bothAccepted > 100)
    }

    @Test func arrayElementsKeepTheirExactText() throws {
        let text = #"  [ {"a": 1} ,"x\"y",  -0.5e3,[true,null] ]  "#
        let bytes = Array(text.utf8)
        let read = try JSONReader.read(bytes)
        let parts = read.elements!.map { String(decoding: bytes[$0], as: UTF8.self) }
        #expect(parts == [#"{"a": 1}"#, #""x\"y""#, "-0.5e3", "[true,null]"])
    }

    @Test(arguments: [
        ("", "byte 1 (expected a value"),
        ("[,1]", "byte 2 (expected a value"),
        ("[1,,]", "byte 4 (expected a value"),
        (#"{"a":1,,}"#, "byte 8 (expected a member name in quotes"),
        ("{,}", "byte 2 (expected a member name in quotes"),
        ("01", "byte 2 (expected no leading zero in a number"),
        ("[1 2]", "byte 4 (expected ',' or ']' in an array"),
        (#""tab\#there""#, "byte 5 (expected no control character inside a string"),
        (#""\x""#, "byte 3 (expected one of"),
        (#"{"a" 1}"#, "byte 6 (expected ':' after a member name"),
        ("tru", "byte 1 (expected 'true'"),
        ("1.", "byte 3 (expected a digit after '.'"),
        ("{} x", "byte 4 (expected the end of the text"),
        (#""open"#, "byte 6 (expected '\"' to close the string"),
    ])
    func badTextIsRefusedWithWhereAndWhy(text: String, why: String) {
        #expect(throws: JSONReader.Failure.self) { try JSONReader.read(Array(text.utf8)) }
        do {
            _ = try JSONReader.read(Array(text.utf8))
        } catch {
            #expect(error.description.contains(why), "\(error.description)")
        }
        #expect(Self.foundation(Array(text.utf8)) == nil, "Foundation refuses it too")
    }

    @Test func aTrailingCommaIsLetThroughAsFoundationLetsItThrough() {
        for text in ["[1,]", #"{"a":1,}"#, #"[{"a":[2,],},]"#] {
            #expect(Self.ours(Array(text.utf8)) != nil)
            #expect(Self.ours(Array(text.utf8)) == Self.foundation(Array(text.utf8)))
        }
    }

    @Test func deepNestingIsRefusedNotRecursedInto() {
        let text = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONReader.Failure.self) { try JSONReader.read(Array(text.utf8)) }
    }

    @Test func escapesAndSurrogatesBecomeTheirCharacters() throws {
        let text = #"["\u00e9\ud83d\ude00\n\/", "\ud800x", 18446744073709551615, -9223372036854775808, 1e400]"#
        let value = try JSONReader.read(Array(text.utf8)).value as! [Any]
        #expect(value[0] as? String == "é😀\n/")
        #expect(value[1] as? String == "\u{FFFD}x")
        #expect((value[2] as? NSNumber)?.uint64Value == UInt64.max)
        #expect((value[3] as? NSNumber)?.int64Value == Int64.min)
    }

    // MARK: generated documents

    static let pieces = [
        "plain", "with \\\"quotes\\\"", "tab\\tnew\\nline", "\\u00e9t\\u00e9", "\\ud83d\\ude00", "emoji 😀", "",
        "a/b\\/c", "550 5.1.1 <user@example.com>: unknown",
    ]
    static let numbers = [
        "0", "-0", "7", "-42", "1.5", "-0.25", "1e3", "2.5E-3", "123456789012345678", "9007199254740993", "1699999999",
        "1699999999.123",
    ]

    static func document(depth: Int, random: inout SeededRandom) -> String {
        let kind = depth > 3 ? random.next(upTo: 4) : random.next(upTo: 6)
        switch kind {
        case 0: return "\"" + pieces[random.next(upTo: pieces.count)] + "\""
        case 1: return numbers[random.next(upTo: numbers.count)]
        case 2: return ["true", "false", "null"][random.next(upTo: 3)]
        case 3: return "\"" + pieces[random.next(upTo: pieces.count)] + pieces[random.next(upTo: pieces.count)] + "\""
        case 4:
            let count = random.next(upTo: 5)
            return "["
                + (0..<count).map { _ in space(&random) + document(depth: depth + 1, random: &random) }
                .joined(separator: ",") + space(&random) + "]"
        default:
            let count = random.next(upTo: 6)
            return "{"
                + (0..<count).map { index in
                    space(&random) + "\"k\(index)\(pieces[random.next(upTo: 3)])\"" + space(&random) + ":"
                        + document(depth: depth + 1, random: &random)
                }.joined(separator: ",") + "}"
        }
    }

    static func space(_ random: inout SeededRandom) -> String { ["", " ", "\n  ", "\t", "\r\n"][random.next(upTo: 5)] }
}

/// SplitMix64: the same sequence for the same seed on every machine.
struct SeededRandom {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next(upTo bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(bound))
    }
}
