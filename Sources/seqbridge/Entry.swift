import ArgumentParser
import Foundation
import Logging

@main
struct Entry {
    /// Exit status: 0 success, 1 failure, 2 usage error (SPEC §4); errors are
    /// one sentence on standard error.
    static func main() async {
        LoggingSystem.bootstrap { label in LogOutput(label: label) }
        do {
            var command = try Seqbridge.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = Seqbridge.exitCode(for: error)
            if code == .success {
                print(Seqbridge.fullMessage(for: error))
                exit(0)
            }
            // Usage errors get the parser's message and usage; everything else is our own sentence.
            let message = code == .validationFailure ? Seqbridge.fullMessage(for: error) : "\(error)"
            FileHandle.standardError.write(Data(("seqbridge: " + message + "\n").utf8))
            exit(code == .validationFailure ? 2 : 1)
        }
    }
}

struct Seqbridge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seqbridge",
        abstract: "Email sequences to influencers, with every enrollment's status kept true.",
        subcommands: [
            Serve.self, SequenceCommand.self, MailboxCommand.self, Enroll.self, Unenroll.self, Reenroll.self,
            InfluencerCommand.self, SuppressionCommand.self, Import.self, Tick.self, StatusCommand.self, Show.self,
            Export.self, Ingest.self, EventsCommand.self,
        ])
}
