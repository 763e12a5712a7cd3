import Crypto
import Foundation
import Testing

/// Inputs are taken exactly as sent (SPEC §2, §4): a byte-order mark is part of an id, a ttl
/// must be an exact integer, a token's critical header extensions are not ignored.
@Suite("Exact inputs", .serialized, .temporaryFiles, .timeLimit(.minutes(2)))
struct InputExactnessTests {
    @Test func aByteOrderMarkAnInexactTTLAndACriticalHeaderAreRefused() async throws {
        let node = try ServiceProcess.serve(dataDirectory: TemporaryDirectory.make())
        try await node.waitUntilReady()
        let (written, _) = try await node.put("bob", #"{"status":"online"}"#)
        #expect(written == 200)

        let (status, body) = try await node.get("/api/v2/presence/%EF%BB%BFbob")
        #expect(status == 400)
        #expect((body["error"] as? [String: Any])?["code"] as? String == "invalid_user_id")
        let (listed, listBody) = try await node.get("/api/v2/presence?users=%EF%BB%BFbob")
        #expect(listed == 400, "\(listBody)")

        let (ttl, ttlBody) = try await node.put("bob", #"{"status":"online","ttl":9.99999999999999999}"#)
        #expect(ttl == 400)
        #expect((ttlBody["error"] as? [String: Any])?["code"] as? String == "invalid_ttl")

        let header = Data(#"{"alg":"HS256","typ":"JWT","crit":["exp"]}"#.utf8)
        let token = try await TestNode.token("bob")
        let parts = token.split(separator: ".")
        let forged = Self.hs256(header: header, payload: String(parts[1]), secret: TestNode.secret)
        let (refused, refusedBody) = try await HTTP.request(
            "PUT", port: node.httpPort, path: "/api/v2/presence/bob", headers: ["Authorization": "Bearer \(forged)"],
            body: #"{"status":"busy"}"#)
        #expect(refused == 401, "\(refusedBody)")
        await node.stop()
    }

    /// A token with the given header over an existing payload segment, signed with `secret`.
    static func hs256(header: Data, payload: String, secret: String) -> String {
        let encodedHeader = header.base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let input = "\(encodedHeader).\(payload)"
        let signature = HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        let encoded = Data(signature).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return "\(input).\(encoded)"
    }
}
