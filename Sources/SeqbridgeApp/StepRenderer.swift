import Foundation
import Mustache
import SeqbridgeStore

/// Renders a step's subject and body from an influencer's fields with Mustache.
///
/// Every variable a template names must have a value: an email that greets
/// "Hi ," is worse than one not sent, so a missing field fails the step.
public enum StepRenderer {
    public struct Rendered: Sendable, Hashable {
        public var subject: String
        public var body: String
        public var html: String?
    }

    /// Why `template` does not parse, or nil when it does.
    public static func syntaxProblem(_ template: String) -> String? {
        do {
            _ = try MustacheTemplate(string: template)
            return nil
        } catch let error as MustacheTemplate.ParserError {
            return "\(error.error) at line \(error.context.lineNumber), column \(error.context.columnNumber)"
        } catch {
            return "\(error)"
        }
    }

    /// Parsed templates, so a tick parses each step's text once, not once per influencer.
    public final class Cache: @unchecked Sendable {
        private var parsed: [String: (template: MustacheTemplate, variables: [String])] = [:]
        private var parsedHTML: [String: (template: MustacheTemplate, variables: [String])] = [:]

        public init() {}

        func template(_ text: String) throws -> (template: MustacheTemplate, variables: [String]) {
            if let hit = parsed[text] { return hit }
            // Plain-text mail: no HTML escaping of the values.
            let entry = (try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + text), variableNames(in: text))
            parsed[text] = entry
            return entry
        }

        /// An HTML template: values are HTML-escaped (Mustache's default).
        func htmlTemplate(_ text: String) throws -> (template: MustacheTemplate, variables: [String]) {
            if let hit = parsedHTML[text] { return hit }
            let entry = (try MustacheTemplate(string: text), variableNames(in: text))
            parsedHTML[text] = entry
            return entry
        }
    }

    /// Renders both templates, or returns the sentence explaining what is missing.
    public static func render(_ step: StepDefinition, for influencer: InfluencerFields, cache: Cache = Cache())
        -> Result<Rendered, RenderProblem>
    {
        let subject: (template: MustacheTemplate, variables: [String])
        let body: (template: MustacheTemplate, variables: [String])
        let html: (template: MustacheTemplate, variables: [String])?
        do {
            subject = try cache.template(step.subject)
            body = try cache.template(step.body)
            html = try step.html.map { try cache.htmlTemplate($0) }
        } catch {
            return .failure(RenderProblem(missingFields: [], syntax: "\(error)"))
        }
        let values = influencer.templateValues
        var missing: [String] = []
        for name in subject.variables + body.variables + (html?.variables ?? [])
        where (values[name]?.isEmpty ?? true) && !missing.contains(name) {
            missing.append(name)
        }
        if !missing.isEmpty { return .failure(RenderProblem(missingFields: missing)) }
        return .success(
            Rendered(
                subject: subject.template.render(values), body: body.template.render(values),
                html: html?.template.render(values)))
    }

    /// The names of the plain variable tags (`{{x}}`, `{{{x}}}`, `{{& x}}`);
    /// sections, comments and partials are conditional and not required.
    static func variableNames(in template: String) -> [String] {
        var names: [String] = []
        var rest = Substring(template)
        var sectionDepth = 0
        while let open = rest.range(of: "{{") {
            rest = rest[open.upperBound...]
            let triple = rest.hasPrefix("{")
            if triple { rest = rest.dropFirst() }
            guard let close = rest.range(of: triple ? "}}}" : "}}") else { break }
            var tag = rest[..<close.lowerBound].trimmingCharacters(in: .whitespaces)[...]
            rest = rest[close.upperBound...]
            guard let sigil = tag.first else { continue }
            switch sigil {
            case "#", "^":
                sectionDepth += 1
                continue
            case "/":
                sectionDepth = max(0, sectionDepth - 1)
                continue
            case "!", ">", "<", "=", "%", "$":
                continue
            case "&":
                tag = tag.dropFirst().trimmingCharacters(in: .whitespaces)[...]
            default: break
            }
            // Inside a section a name may belong to the section's own value.
            if sectionDepth == 0, !tag.isEmpty, tag != "." { names.append(String(tag)) }
        }
        return names
    }
}

/// Why a step could not be rendered.
public struct RenderProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public var missingFields: [String]
    public var syntax: String?

    public var description: String {
        if let syntax { return "the template does not parse: \(syntax)" }
        let list = missingFields.map { "'\($0)'" }.joined(separator: ", ")
        return "the template uses \(list), which this influencer does not have (missing or empty)"
    }
}
