import Foundation
import SeqbridgeCore
import SeqbridgeInbound
import SeqbridgeMIME
import Testing

/// Inputs kept from fuzzing and hand-made hostile shapes (`Tests/Fixtures/fuzz`):
/// each must be read to an answer, without a crash, a hang or a runaway allocation.
@Suite struct FuzzRegressionTests {
    static func files(_ kind: String) -> [String] {
        let folder = fixtureRoot.appendingPathComponent("fuzz/\(kind)")
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted().map {
            folder.appendingPathComponent($0).path
        }
    }

    @Test(arguments: files("mime"))
    func mimeInputsAreClassified(_ path: String) throws {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let message = MIMEReader.parse(bytes)
        for part in message.allParts.prefix(50) { _ = part.text }
        let result = MailClassifier.classify(bytes, source: "fuzz", receivedAt: receivedAt)
        #expect(!result.events.isEmpty)
    }

    @Test(arguments: files("xml"))
    func xmlInputsAreAnsweredOrRefused(_ path: String) throws {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        do {
            let events = try XMLReports.parse(bytes, receivedAt: receivedAt)
            #expect(!events.isEmpty)
        } catch {
            #expect(!error.description.isEmpty)
        }
    }
}
