import Foundation
import Hummingbird
import HummingbirdTesting
import PresenceCore
import PresenceHTTP
import PresenceNode
import Testing

/// Every error code of SPEC §3 against a real node; bad input never reaches the store.
@Suite("REST API: errors, auth and limits", .serialized, .temporaryFiles, .timeLimit(.minutes(3)))
struct PresenceAPIErrorTests {
    private func put(
        _ client: any TestClientProtocol, _ user: String, _ body: String, headers: HTTPFields
    ) async throws -> TestResponse {
        try await client.execute(uri: "/api/v2/presence/\(user)", method: .put, headers: headers, body: ByteBuffer(json: body))
    }

    @Test func validationErrorsHaveTheirCodes() async throws {
        try await TestNode.withNode { _, client in
            let headers = try await TestNode.headers(for: "ivy")
            let cases: [(String, String)] = [
                (#"{"message":"no status"}"#, "invalid_status"),
                (#"{"status":"sleeping"}"#, "invalid_status"),
                (#"{"status":1}"#, "invalid_status"),
                (#"{"status":"online","message":"\#(String(repeating: "x", count: 257))"}"#, "invalid_message"),
                (#"{"status":"online","message":"line\nbreak"}"#, "invalid_message"),
                (#"{"status":"online","message":5}"#, "invalid_message"),
                (#"{"status":"online","ttl":9}"#, "invalid_ttl"),
                (#"{"status":"online","ttl":86401}"#, "invalid_ttl"),
                (#"{"status":"online","ttl":30.5}"#, "invalid_ttl"),
                (#"{"status":"online","ttl":"300"}"#, "invalid_ttl"),
                (#"{"status":"online""#, "bad_request"),
                (#"["online"]"#, "bad_request"),
            ]
            for (body, code) in cases {
                let response = try await put(client, "ivy", body, headers: headers)
                #expect(response.status == .badRequest, "\(body)")
                #expect(response.errorCode == code, "\(body)")
                #expect(response.json["error"] as? [String: Any] != nil)
            }
            let ok = try await put(
                client, "ivy", #"{"status":"online","message":"\#(String(repeating: "é", count: 256))","ttl":86400}"#,
                headers: headers)
            #expect(ok.status == .ok)
        }
    }

    @Test func bodyLimitsAndMediaType() async throws {
        try await TestNode.withNode { _, client in
            var headers = try await TestNode.headers(for: "jay")
            let big = #"{"status":"online","message":"x","pad":"\#(String(repeating: "p", count: 4200))"}"#
            let tooLarge = try await put(client, "jay", big, headers: headers)
            #expect(tooLarge.status == .contentTooLarge)
            #expect(tooLarge.errorCode == "payload_too_large")
            headers[.contentType] = "text/plain"
            let wrongType = try await put(client, "jay", #"{"status":"online"}"#, headers: headers)
            #expect(wrongType.status == .unsupportedMediaType)
            #expect(wrongType.errorCode == "unsupported_media_type")
            let batchBody = #"{"user_ids":["\#(String(repeating: "a", count: 70_000))"]}"#
            let batch = try await client.execute(
                uri: "/api/v2/presence/batch", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(json: batchBody))
            #expect(batch.status == .contentTooLarge)
            let missing = try await client.execute(uri: "/api/v2/presence/jay", method: .get)
            #expect(missing.status == .notFound, "nothing was written by the refused requests")
        }
    }

    @Test func authenticationFailuresAre401AndWriteNothing() async throws {
        try await TestNode.withNode { _, client in
            let body = #"{"status":"online"}"#
            let forged = try await TokenIssuer(secret: "another-secret-another-secret-0000").token(subject: "kim")
            let expired = try await TokenIssuer(secret: TestNode.secret).token(
                subject: "kim", lifetime: 60, now: Date().addingTimeInterval(-3600))
            let variants: [HTTPFields] = [
                [:],
                [.authorization: "Bearer not.a.jwt"],
                [.authorization: "Basic a2ltOnB3"],
                [.authorization: "Bearer \(forged)"],
                [.authorization: "Bearer \(expired)"],
            ]
            for headers in variants {
                var withType = headers
                withType[.contentType] = "application/json"
                let response = try await put(client, "kim", body, headers: withType)
                #expect(response.status == .unauthorized)
                #expect(response.errorCode == "unauthorized")
                #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
                let beat = try await client.execute(uri: "/api/v2/presence/kim/heartbeat", method: .post, headers: headers)
                #expect(beat.status == .unauthorized)
                let delete = try await client.execute(uri: "/api/v2/presence/kim", method: .delete, headers: headers)
                #expect(delete.status == .unauthorized)
            }
            let get = try await client.execute(uri: "/api/v2/presence/kim", method: .get)
            #expect(get.status == .notFound)
        }
    }

    @Test func tokensWriteOnlyTheirSubjectUnlessAdmin() async throws {
        try await TestNode.withNode { _, client in
            let other = try await put(client, "lea", #"{"status":"online"}"#, headers: try await TestNode.headers(for: "max"))
            #expect(other.status == .forbidden)
            #expect(other.errorCode == "forbidden")
            #expect(try await client.execute(uri: "/api/v2/presence/lea", method: .get).status == .notFound)
            let admin = try await put(
                client, "lea", #"{"status":"online"}"#,
                headers: try await TestNode.headers(for: "max", scopes: ["presence:admin"]))
            #expect(admin.status == .ok)
        }
    }

    @Test func writeRateLimitPerSubject() async throws {
        try await TestNode.withNode({ $0.writesPerSecond = 0.5; $0.writeBurst = 3 }) { _, client in
            let headers = try await TestNode.headers(for: "ned")
            // Refused requests spend no token: a flood of bad ones never blocks good ones.
            for _ in 0..<10 {
                let bad = try await put(client, "ned", #"{"status":"nope"}"#, headers: headers)
                #expect(bad.status == .badRequest)
            }
            var statuses: [HTTPResponse.Status] = []
            var retryAfter: String?
            for _ in 0..<5 {
                let response = try await put(client, "ned", #"{"status":"online"}"#, headers: headers)
                statuses.append(response.status)
                if response.status == .tooManyRequests {
                    retryAfter = response.headers[.retryAfter]
                    #expect(response.errorCode == "rate_limited")
                }
            }
            #expect(statuses.prefix(3).allSatisfy { $0 == .ok })
            #expect(statuses.suffix(2).allSatisfy { $0 == .tooManyRequests })
            #expect(Int(retryAfter ?? "") ?? 0 >= 1)
            // Heartbeats share the limit; another subject has its own bucket.
            let beat = try await client.execute(uri: "/api/v2/presence/ned/heartbeat", method: .post, headers: headers)
            #expect(beat.status == .tooManyRequests)
            let other = try await put(client, "ola", #"{"status":"online"}"#, headers: try await TestNode.headers(for: "ola"))
            #expect(other.status == .ok)
        }
    }

    @Test func batchReadsKeepOrderAndReportMissing() async throws {
        try await TestNode.withNode { _, client in
            let admin = try await TestNode.headers(for: "root", scopes: ["presence:admin"])
            for user in ["u1", "u2", "u3"] {
                _ = try await put(client, user, #"{"status":"away"}"#, headers: admin)
            }
            let get = try await client.execute(uri: "/api/v2/presence?users=u3,nope,u1,u3", method: .get)
            #expect(get.status == .ok)
            let ids = (get.json["presences"] as? [[String: Any]])?.compactMap { $0["user_id"] as? String }
            #expect(ids == ["u3", "u1"])
            #expect(get.json["not_found"] as? [String] == ["nope"])

            let post = try await client.execute(
                uri: "/api/v2/presence/batch", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(json: #"{"user_ids":["u2","ghost","u1"]}"#))
            #expect(post.status == .ok)
            let postIDs = (post.json["presences"] as? [[String: Any]])?.compactMap { $0["user_id"] as? String }
            #expect(postIDs == ["u2", "u1"])
            #expect(post.json["not_found"] as? [String] == ["ghost"])
        }
    }

    @Test func batchLimitsAndValidation() async throws {
        try await TestNode.withNode { _, client in
            let hundred = (0..<100).map { "user\($0)" }.joined(separator: ",")
            #expect(try await client.execute(uri: "/api/v2/presence?users=\(hundred)", method: .get).status == .ok)
            let tooMany = try await client.execute(uri: "/api/v2/presence?users=\(hundred),one-more", method: .get)
            #expect(tooMany.errorCode == "too_many_users")
            #expect(try await client.execute(uri: "/api/v2/presence?users=", method: .get).errorCode == "bad_request")
            #expect(try await client.execute(uri: "/api/v2/presence", method: .get).errorCode == "bad_request")
            #expect(try await client.execute(uri: "/api/v2/presence?users=ok,b%20ad", method: .get).errorCode == "invalid_user_id")

            func batch(_ body: String) async throws -> TestResponse {
                try await client.execute(
                    uri: "/api/v2/presence/batch", method: .post, headers: [.contentType: "application/json"],
                    body: ByteBuffer(json: body))
            }
            let thousand = (0..<1000).map { "\"u\($0)\"" }.joined(separator: ",")
            #expect(try await batch(#"{"user_ids":[\#(thousand)]}"#).status == .ok)
            #expect(try await batch(#"{"user_ids":[\#(thousand),"extra"]}"#).errorCode == "too_many_users")
            #expect(try await batch(#"{"user_ids":[]}"#).errorCode == "bad_request")
            #expect(try await batch(#"{"users":["a"]}"#).errorCode == "bad_request")
            #expect(try await batch(#"{"user_ids":["a","no/slash"]}"#).errorCode == "invalid_user_id")
        }
    }

    @Test func privateReadsNeedAToken() async throws {
        try await TestNode.withNode({ $0.publicReads = false }) { _, client in
            let anonymous = try await client.execute(uri: "/api/v2/presence/pat", method: .get)
            #expect(anonymous.status == .unauthorized)
            let authorized = try await client.execute(
                uri: "/api/v2/presence/pat", method: .get, headers: try await TestNode.headers(for: "someone"))
            #expect(authorized.status == .notFound)
        }
    }

    @Test func unknownRoutesUseTheErrorBody() async throws {
        try await TestNode.withNode { _, client in
            let response = try await client.execute(uri: "/api/v1/nothing", method: .get)
            #expect(response.status == .notFound)
            #expect(response.errorCode == "not_found")
        }
    }
}
