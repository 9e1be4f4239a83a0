import CLibXML2
import SeqbridgeCore
import SeqbridgeMIME
import SeqbridgeStore

/// Why an XML delivery status report was refused.
public struct XMLReportError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
}

/// XML delivery status reports (SPEC §5), read with libxml2. External entities
/// are never fetched (no network, no DTD loading, external references refused)
/// and internal entity expansion is bounded, so an entity bomb fails fast.
public enum XMLReports {
    /// The most characters entity references may add to one report.
    public static let maxExpandedCharacters = 64 * 1024
    /// The most entity references one report may expand.
    public static let maxEntityReferences = 10_000

    static let recipientFields = [
        "original-recipient", "final-recipient", "action", "status", "remote-mta", "diagnostic-code",
        "last-attempt-date", "will-retry-until", "x-seqbridge-token",
    ]

    public static func parse(_ bytes: [UInt8], source: String = "dsn", receivedAt: Timestamp) throws(XMLReportError)
        -> [ProviderEvent]
    {
        guard !bytes.isEmpty else { throw XMLReportError(description: "the XML report is empty") }
        guard bytes.count < Int(Int32.max) else { throw XMLReportError(description: "the XML report is too large") }
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue)
        let document: xmlDocPtr? = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                xmlReadMemory($0, Int32(buffer.count), "report.xml", nil, options)
            }
        }
        guard let document else {
            let message = xmlGetLastError().map { String(cString: $0.pointee.message).trimmingSpaces } ?? ""
            let line = xmlGetLastError().map { Int($0.pointee.line) } ?? 0
            throw XMLReportError(
                description: "the XML report is not well-formed"
                    + (line > 0 ? " at line \(line)" : "") + (message.isEmpty ? "" : ": \(message)"))
        }
        defer { xmlFreeDoc(document) }
        guard let root = xmlDocGetRootElement(document) else {
            throw XMLReportError(description: "the XML report has no root element")
        }
        let rootName = name(root)
        guard rootName == "delivery-status-report" else {
            throw XMLReportError(
                description: "the root element is <\(rootName)>; a report's root element is <delivery-status-report>")
        }
        var budget = Budget()
        var message: [String: String] = [:]
        var recipients: [[String: String]] = []
        var child = root.pointee.children
        while let node = child {
            defer { child = node.pointee.next }
            guard node.pointee.type == XML_ELEMENT_NODE else { continue }
            let field = name(node)
            if field == "recipient" {
                var entry: [String: String] = [:]
                var inner = node.pointee.children
                while let item = inner {
                    defer { inner = item.pointee.next }
                    guard item.pointee.type == XML_ELEMENT_NODE else { continue }
                    let key = name(item)
                    if entry[key] == nil { entry[key] = try text(item, budget: &budget).trimmingSpaces }
                }
                recipients.append(entry)
            } else if message[field] == nil {
                message[field] = try text(node, budget: &budget).trimmingSpaces
            }
        }
        guard !recipients.isEmpty else {
            throw XMLReportError(description: "the report has no <recipient> element")
        }
        let ids = message["original-message-id"].map(AddressScan.messageIDs) ?? []
        let identity = "xml:" + (ids.first ?? Digest.hex(bytes))
        let raw = String(decoding: bytes, as: UTF8.self)
        var reportTime = receivedAt
        if let arrival = message["arrival-date"], let millis = MailDate.parse(arrival),
            millis <= receivedAt.millisecondsSinceEpoch + 86_400_000
        {
            reportTime = Timestamp(millisecondsSinceEpoch: millis)
        }
        var events: [ProviderEvent] = []
        // A report about one of our messages names its one recipient; with several,
        // the message id cannot say which, so each entry is matched by its address.
        let several = recipients.count > 1
        for (index, entry) in recipients.enumerated() {
            let line = index + 1
            guard
                let address = DeliveryStatusFields.address(entry["original-recipient"])
                    ?? DeliveryStatusFields.address(entry["final-recipient"])
            else {
                throw XMLReportError(
                    description: "recipient \(line) has no <final-recipient> or <original-recipient> address")
            }
            let status = entry["status"].flatMap { Diagnosis.enhancedCode(in: Array($0.utf8)) }
            guard let action = entry["action"]?.lowercased(), !action.isEmpty else {
                throw XMLReportError(description: "recipient \(line) (\(address)) has no <action>")
            }
            guard ["failed", "delayed", "delivered", "relayed", "expanded"].contains(action) else {
                throw XMLReportError(
                    description:
                        "recipient \(line) (\(address)) has the action '\(action)'; expected failed, delayed, delivered, relayed or expanded"
                )
            }
            let diagnostic = DeliveryStatusFields.untyped(entry["diagnostic-code"])
            let type: EventType = action == "failed" ? .bounced : action == "delayed" ? .deferred : .delivered
            var reason: BounceReason? = nil
            if type != .delivered {
                reason = Diagnosis.reason(status: status, text: Bytes.lowercased((diagnostic ?? "").utf8))
            }
            var when = reportTime
            if let last = entry["last-attempt-date"], let millis = MailDate.parse(last),
                millis <= receivedAt.millisecondsSinceEpoch + 86_400_000
            {
                when = Timestamp(millisecondsSinceEpoch: millis)
            }
            events.append(
                ProviderEvent(
                    source: source, type: type, recipient: address, messageIDs: several ? [] : ids,
                    token: entry["x-seqbridge-token"],
                    eventID: "\(identity)#\(index):\(address):\(action)", timestamp: when,
                    bounceClass: type == .bounced ? reason?.bounceClass : nil,
                    detail: diagnostic ?? status, raw: raw,
                    delivery: DeliveryFacts(
                        action: action, status: status, reason: reason?.rawValue,
                        remoteMTA: entry["remote-mta"])))
        }
        return events
    }

    struct Budget {
        var characters = 0
        var references = 0
    }

    static func name(_ node: xmlNodePtr) -> String {
        node.pointee.name.map { String(cString: $0) }?.lowercased() ?? ""
    }

    /// The text of an element, expanding internal entities within the budget.
    static func text(_ node: xmlNodePtr, budget: inout Budget, depth: Int = 0) throws(XMLReportError) -> String {
        guard depth < 20 else { throw XMLReportError(description: "entities are nested too deeply") }
        var result = ""
        var child = node.pointee.children
        while let current = child {
            defer { child = current.pointee.next }
            switch current.pointee.type {
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                if let content = current.pointee.content { result += String(cString: content) }
            case XML_ENTITY_REF_NODE:
                budget.references += 1
                guard budget.references <= maxEntityReferences else {
                    throw XMLReportError(
                        description: "the report expands more than \(maxEntityReferences) entity references")
                }
                let entityName = current.pointee.name.map { String(cString: $0) } ?? "?"
                // For a reference, `children` points at the entity declaration.
                guard let declaration = current.pointee.children else {
                    throw XMLReportError(description: "the entity '\(entityName)' is not declared")
                }
                let entity = UnsafeMutableRawPointer(declaration).assumingMemoryBound(to: xmlEntity.self)
                switch entity.pointee.etype {
                case XML_INTERNAL_GENERAL_ENTITY, XML_INTERNAL_PREDEFINED_ENTITY:
                    let expanded = try expand(entity, budget: &budget, depth: depth + 1)
                    result += expanded
                default:
                    throw XMLReportError(description: "the external entity '\(entityName)' is not fetched")
                }
            case XML_ELEMENT_NODE:
                result += try text(current, budget: &budget, depth: depth + 1)
            default:
                break
            }
            budget.characters = budget.characters &+ 0
            guard result.utf8.count + budget.characters <= maxExpandedCharacters * 4 else {
                throw XMLReportError(description: "the report's text is larger than the limit")
            }
        }
        return result
    }

    /// An internal entity's replacement text: its content, with nested references expanded.
    static func expand(_ entity: UnsafeMutablePointer<xmlEntity>, budget: inout Budget, depth: Int)
        throws(XMLReportError)
        -> String
    {
        guard depth < 20 else { throw XMLReportError(description: "entities are nested too deeply") }
        guard let content = entity.pointee.content else { return "" }
        let text = String(cString: content)
        var result = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            result += rest[..<amp]
            guard let semicolon = rest[amp...].firstIndex(of: ";") else {
                result += rest[amp...]
                rest = ""
                break
            }
            let reference = String(rest[rest.index(after: amp)..<semicolon])
            rest = rest[rest.index(after: semicolon)...]
            if reference.hasPrefix("#") {
                result += "&" + reference + ";"
                continue
            }
            budget.references += 1
            guard budget.references <= maxEntityReferences else {
                throw XMLReportError(
                    description: "the report expands more than \(maxEntityReferences) entity references")
            }
            guard let nested = xmlGetDocEntity(entity.pointee.doc, reference) ?? xmlGetPredefinedEntity(reference)
            else {
                throw XMLReportError(description: "the entity '\(reference)' is not declared")
            }
            guard
                nested.pointee.etype == XML_INTERNAL_GENERAL_ENTITY
                    || nested.pointee.etype == XML_INTERNAL_PREDEFINED_ENTITY
            else {
                throw XMLReportError(description: "the external entity '\(reference)' is not fetched")
            }
            result += try expand(nested, budget: &budget, depth: depth + 1)
            if budget.characters + result.utf8.count > maxExpandedCharacters {
                throw XMLReportError(
                    description: "entity expansion exceeds the limit of \(maxExpandedCharacters) characters")
            }
        }
        result += rest
        budget.characters += result.utf8.count
        guard budget.characters <= maxExpandedCharacters else {
            throw XMLReportError(
                description: "entity expansion exceeds the limit of \(maxExpandedCharacters) characters")
        }
        return result
    }
}
