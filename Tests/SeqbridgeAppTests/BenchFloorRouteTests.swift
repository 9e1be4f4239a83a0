import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SeqbridgeSQLite
import Testing

@testable import SeqbridgeHTTP

/// `/bench/floor`, the webhook benchmark's floor: the generic route with its
/// events appended to a database of their own, the store left alone.
@Suite("Benchmark floor route")
struct BenchFloorRouteTests {
    static let body = """
        [{"type":"bounced","message_id":"<unknown@example.com>","recipient":"ana.lima@example.com","timestamp":"2026-11-02T10:10:00Z","event_id":"f-1",
          "detail":"550 5.1.1 user unknown","bounce_class":"hard"},
         {"type":"opened","message_id":"<unknown@example.com>","recipient":"ana.lima@example.com","timestamp":"2026-11-02T10:11:00Z","event_id":"f-2"}]
        """

    @Test func appendsEveryEventAndLeavesTheStoreAlone() async throws {
        let harness = try await Harness.withSentFixture()
        let log = try AppendOnlyLog(path: harness.folder.appendingPathComponent("floor.sqlite").path)
        let before = try await harness.rows()
        let app = Application(router: buildRouter(engine: harness.engine, clock: { routeNow }, benchFloor: log))
        try await app.test(.router) { client in
            for _ in 0..<3 {
                try await client.execute(
                    uri: "/bench/floor", method: .post, headers: [.contentType: "application/json"],
                    body: ByteBuffer(string: Self.body)
                ) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body).contains(#""received":2"#))
                }
            }
            // What the route decodes is checked as on the real route.
            try await client.execute(
                uri: "/bench/floor", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: "[{")
            ) { response in #expect(response.status == .badRequest) }
        }
        #expect(try log.count() == 6)
        let after = try await harness.rows()
        #expect(after == before)
        // The same body on the real route does change the store.
        try await harness.app().test(.router) { client in
            let answer = try await post(client, "generic", Self.body)
            #expect(answer.status == 200)
        }
        let bounced = try await harness.rows()
        #expect(bounced.first?.status == .error)
    }

    @Test func isOnlyThereWhenAskedFor() async throws {
        let harness = try Harness()
        try await harness.app().test(.router) { client in
            try await client.execute(
                uri: "/bench/floor", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: Self.body)
            ) { response in #expect(response.status == .notFound) }
        }
    }
}
