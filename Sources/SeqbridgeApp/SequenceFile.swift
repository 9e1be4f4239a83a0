import Mustache
import SeqbridgeCore
import SeqbridgeStore
import Yams

/// Reads a sequence YAML file (SPEC §4) into a definition, with errors that
/// name the file and line at fault.
public enum SequenceFile {
    public static func parse(_ text: String, file: String) throws(AppError) -> SequenceDefinition {
        func fail(_ node: Node?, _ message: String) -> AppError {
            .sequenceFile(file: file, line: node?.mark?.line, message: message)
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw yamlError(error, file: file)
        } catch {
            throw .sequenceFile(file: file, line: nil, message: "it is not valid YAML (\(error))")
        }
        guard let root, let mapping = root.mapping else {
            throw fail(root, "expected a mapping with name, mailbox and steps")
        }
        let known: Set<String> = ["name", "mailbox", "steps"]
        for key in mapping.keys where !known.contains(key.string ?? "") {
            throw fail(key, "unknown key '\(key.string ?? "?")'; a sequence has name, mailbox and steps")
        }
        func requiredString(_ node: Node?, _ field: String, in parent: Node) throws(AppError) -> String {
            guard let node else { throw fail(parent, "'\(field)' is missing") }
            guard let value = node.scalar?.string, !value.isEmpty else {
                throw fail(node, "'\(field)' must be a non-empty text")
            }
            return value
        }
        let name = try requiredString(mapping["name"], "name", in: root)
        let mailbox = try requiredString(mapping["mailbox"], "mailbox", in: root)
        guard let stepsNode = mapping["steps"] else { throw fail(root, "'steps' is missing") }
        guard let steps = stepsNode.sequence, !steps.isEmpty else {
            throw fail(stepsNode, "'steps' must be a list of at least one step")
        }
        var definitions: [StepDefinition] = []
        for (index, stepNode) in steps.enumerated() {
            let label = "step \(index + 1)"
            guard let step = stepNode.mapping else {
                throw fail(stepNode, "\(label) must be a mapping with wait, subject and body")
            }
            for key in step.keys where !["wait", "subject", "body", "html"].contains(key.string ?? "") {
                throw fail(
                    key,
                    "\(label) has an unknown key '\(key.string ?? "?")'; a step has wait, subject, body and optionally html"
                )
            }
            let waitText = try requiredString(step["wait"], "\(label) wait", in: stepNode)
            let wait: WaitDuration
            do {
                wait = try WaitDuration(parsing: waitText)
            } catch {
                throw fail(
                    step["wait"], "\(label) wait '\(waitText)' is not a duration; write it like 30m, 1h, 3d or 1w")
            }
            let subject = try requiredString(step["subject"], "\(label) subject", in: stepNode)
            let body = try requiredString(step["body"], "\(label) body", in: stepNode)
            let html = step["html"] == nil ? nil : try requiredString(step["html"], "\(label) html", in: stepNode)
            for (field, template) in [("subject", subject), ("body", body), ("html", html ?? "")] {
                if let problem = StepRenderer.syntaxProblem(template) {
                    throw fail(step[field], "\(label) \(field) is not a valid template: \(problem)")
                }
            }
            definitions.append(StepDefinition(wait: wait, subject: subject, body: body, html: html))
        }
        return SequenceDefinition(name: name, mailbox: mailbox, steps: definitions)
    }

    static func yamlError(_ error: YamlError, file: String) -> AppError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            return .sequenceFile(file: file, line: mark.line, message: "it is not valid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return .sequenceFile(
                file: file, line: context.mark.line,
                message: "the key(s) \(duplicates.sorted().joined(separator: ", ")) appear more than once")
        default:
            return .sequenceFile(file: file, line: nil, message: "it is not valid YAML: \(error)")
        }
    }
}
