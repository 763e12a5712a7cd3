import Hummingbird
import HummingbirdTesting
import NIOHTTP1
import PresenceCore
import Testing

@testable import PresenceHTTP

/// What a request that is not valid HTTP/1.1, or a route that fails in a way no one foresaw,
/// is answered with: the spec's error body, never the error's own text.
@Suite("Error rendering")
struct ErrorRenderingTests {
    @Test(arguments: [
        (HTTPParserError.invalidContentLength, "the request's Content-Length is invalid"),
        (.unexpectedContentLength, "the request's Content-Length is invalid"),
        (.invalidURL, "the request target is not valid"),
        (.invalidStatus, "the request is not valid HTTP/1.1"),
    ])
    func framingErrorsAreBadRequests(error: HTTPParserError, message: String) {
        let answer = PresenceError(framing: error)
        #expect(answer.code == .badRequest)
        #expect(answer.message == message)
    }

    /// An error that is neither a ``PresenceError`` nor an HTTP error.
    struct Unforeseen: Error {
        let secret = "internal detail"
    }

    @Test func anUnforeseenErrorIs500WithoutItsDetail() async throws {
        let router = Router(context: PresenceRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        router.get("fails") { _, _ -> Response in throw Unforeseen() }
        try await Application(router: router).test(.router) { client in
            let response = try await client.execute(uri: "/fails", method: .get)
            #expect(response.status == .internalServerError)
            #expect(response.errorCode() == "internal")
            #expect(!response.text.contains("internal detail") && !response.text.contains("Unforeseen"))
        }
    }

    @Test func aSessionIdThatDoesNotDecodeIsInvalid() async throws {
        try await RouterFixture().test { client in
            let response = try await client.put(
                "kim/sessions/%ZZ", #"{"status":"online"}"#, headers: try await RouterFixture.headers(for: "kim"))
            #expect(response.status == .badRequest)
            #expect(response.errorCode() == "invalid_session_id")
        }
    }
}
