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

    /// Renders both templates, or returns the sentence explaining what is missing.
    public static func render(_ step: StepDefinition, for influencer: InfluencerFields) -> Result<
        Rendered, RenderProblem
    > {
        let values = influencer.templateValues
        let missing = (variableNames(in: step.subject) + variableNames(in: step.body)).filter {
            values[$0]?.isEmpty ?? true
        }
        if !missing.isEmpty {
            var seen = Set<String>()
            let unique = missing.filter { seen.insert($0).inserted }
            return .failure(RenderProblem(missingFields: unique))
        }
        do {
            // Plain-text mail: no HTML escaping of the values.
            let subject = try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + step.subject)
            let body = try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + step.body)
            return .success(Rendered(subject: subject.render(values), body: body.render(values)))
        } catch {
            return .failure(RenderProblem(missingFields: [], syntax: "\(error)"))
        }
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
