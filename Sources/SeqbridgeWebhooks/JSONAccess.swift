import Crypto
import Foundation
import SeqbridgeCore

/// Reading loosely typed JSON (the shapes `JSONSerialization` gives): providers
/// send numbers as strings and strings as numbers, so every accessor is forgiving.
typealias JSONObject = [String: Any]

func parseJSON(_ bytes: [UInt8]) throws(WebhookError) -> Any { try readJSON(bytes).value }

/// The value and, for a top-level array, each element's byte range; a bad text is a 400 with where and why.
func readJSON(_ bytes: [UInt8]) throws(WebhookError) -> (value: Any, elements: [Range<Int>]?) {
    do {
        return try JSONReader.read(bytes)
    } catch {
        throw .unparseable(error.description)
    }
}

func string(_ value: Any?) -> String? {
    switch value {
    case let text as String: text.isEmpty ? nil : text
    case let number as NSNumber: number.stringValue
    default: nil
    }
}

func object(_ value: Any?) -> JSONObject? { value as? JSONObject }

func array(_ value: Any?) -> [Any]? { value as? [Any] }

func double(_ value: Any?) -> Double? {
    switch value {
    case let number as NSNumber: number.doubleValue
    case let text as String: Double(text)
    default: nil
    }
}

func bool(_ value: Any?) -> Bool? {
    switch value {
    case let number as NSNumber: number.boolValue
    case let text as String: ["true", "1", "yes"].contains(text.lowercased())
    default: nil
    }
}

/// Unix seconds (integer, float or string) or milliseconds when `millis`.
func unixTime(_ value: Any?, millis: Bool = false) -> Timestamp? {
    guard let number = double(value), let milliseconds = Int64(exactly: (millis ? number : number * 1000).rounded()),
        abs(milliseconds) < 1 << 50
    else { return nil }
    return Timestamp(millisecondsSinceEpoch: milliseconds)
}

/// ISO 8601 with any number of fractional digits and an offset or Z.
func isoTime(_ value: Any?) -> Timestamp? {
    guard let text = string(value) else { return nil }
    return Timestamp(iso8601: text)
}

/// The event as compact JSON with sorted keys: what is stored and hashed.
func canonical(_ value: Any) -> String {
    guard JSONSerialization.isValidJSONObject(value),
        let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])
    else { return "\(value)" }
    return String(decoding: data, as: UTF8.self)
}

/// For providers that give no event id: the same event always hashes the same.
func hashID(_ raw: String) -> String {
    "sha256:" + SHA256.hash(data: Data(raw.utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
}

/// `<id@host>` or `id@host` → `id@host`.
func bareMessageID(_ value: Any?) -> String? {
    guard let text = string(value) else { return nil }
    var bytes = Substring(text).utf8[...]
    while let first = bytes.first, first == 32 || first == 9 || first == 60 { bytes = bytes.dropFirst() }
    while let last = bytes.last, last == 32 || last == 9 || last == 62 { bytes = bytes.dropLast() }
    return bytes.isEmpty ? nil : String(Substring(bytes))
}

/// Lower-cased and trimmed, as influencer addresses are stored.
func address(_ value: Any?) -> String? {
    guard let text = string(value) else { return nil }
    if let parsed = try? EmailAddress(text) { return parsed.value }
    // "Name <a@b>" forms
    if let open = text.lastIndex(of: "<"), let close = text.lastIndex(of: ">"), open < close,
        let parsed = try? EmailAddress(String(text[text.index(after: open)..<close]))
    {
        return parsed.value
    }
    return text.lowercased()
}

/// The token under our metadata key in a provider's custom-data object.
let tokenKey = "seqbridge_token"

func token(in metadata: Any?) -> String? {
    switch metadata {
    case let object as JSONObject:
        if let value = object[tokenKey] {
            if let list = value as? [Any] { return string(list.first) }
            return string(value)
        }
        return nil
    case let text as String:
        // Some providers pass metadata through as a JSON string (Mailjet Payload, Brevo X-Mailin-custom).
        if text.hasPrefix("sbt_") { return text }
        guard let data = text.data(using: .utf8), let parsed = try? JSONSerialization.jsonObject(with: data) else {
            return nil
        }
        return token(in: parsed)
    default: return nil
    }
}
