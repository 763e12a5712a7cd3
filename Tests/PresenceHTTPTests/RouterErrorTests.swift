import Foundation
import Hummingbird
import HummingbirdTesting
import JWTKit
import PresenceAuth
import PresenceCore
import Testing

@testable import PresenceHTTP

/// Every error code of SPEC §3 that needs no store, with its status and error body; refused
/// requests write nothing.
@Suite("Router: errors")
struct RouterErrorTests {
    @Test func validationErrorsHaveTheirCodes() async throws {
        try await RouterFixture().test { client in
            let headers = try await RouterFixture.headers(for: "ivy")
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
                (#"{"status":"online","ttl":9.99999999999999999}"#, "invalid_ttl"),
                (#"{"status":"online","ttl":"300"}"#, "invalid_ttl"),
                (#"{"status":"online""#, "bad_request"),
                (#"["online"]"#, "bad_request"),
                ("", "bad_request"),
            ]
            for (body, code) in cases {
                let response = try await client.put("ivy", body, headers: headers)
                #expect(response.status == .badRequest, "\(body)")
                #expect(response.errorCode() == code, "\(body)")
            }
            #expect(try await client.get("/api/v2/presence/ivy").status == .notFound, "nothing was written")
            let ok = try await client.put(
                "ivy", #"{"status":"online","message":"\#(String(repeating: "é", count: 256))","ttl":86400}"#,
                headers: headers)
            #expect(ok.status == .ok)
        }
    }

    @Test func bodiesOverTheLimitAre413AndNonJSONBodiesAre415() async throws {
        try await RouterFixture().test { client in
            var headers = try await RouterFixture.headers(for: "jay")
            let big = #"{"status":"online","message":"x","pad":"\#(String(repeating: "p", count: 4200))"}"#
            let tooLarge = try await client.put("jay", big, headers: headers)
            #expect(tooLarge.status == .contentTooLarge)
            #expect(tooLarge.errorCode() == "payload_too_large")
            for type in ["text/plain", "application/x-www-form-urlencoded", "application/jsonx"] {
                headers[.contentType] = type
                let wrongType = try await client.put("jay", #"{"status":"online"}"#, headers: headers)
                #expect(wrongType.status == .unsupportedMediaType, "\(type)")
                #expect(wrongType.errorCode() == "unsupported_media_type", "\(type)")
            }
            for type in ["application/json; charset=utf-8", " Application/JSON ", "application/merge-patch+json"] {
                headers[.contentType] = type
                #expect(try await client.put("jay", #"{"status":"online"}"#, headers: headers).status == .ok, "\(type)")
            }
            let batchBody = #"{"user_ids":["\#(String(repeating: "a", count: 70_000))"]}"#
            let batch = try await client.execute(
                uri: "/api/v2/presence/batch", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: batchBody))
            #expect(batch.status == .contentTooLarge)
            #expect(batch.errorCode() == "payload_too_large")
        }
    }

    @Test func authenticationFailuresAre401WithAChallengeAndWriteNothing() async throws {
        try await RouterFixture().test { client in
            let forged = try await TokenIssuer(secret: "another-secret-another-secret-0000").token(subject: "kim")
            let expired = try await TokenIssuer(secret: RouterFixture.secret).token(
                subject: "kim", lifetime: 60, now: Date().addingTimeInterval(-3600))
            // RFC 6750 §3.1: no error code when no credentials came, `invalid_request` for a
            // header that is no bearer token, `invalid_token` for a token that did not verify.
            let none = #"Bearer realm="presence""#
            let badRequest = #"Bearer realm="presence", error="invalid_request""#
            let badToken = #"Bearer realm="presence", error="invalid_token""#
            let variants: [(HTTPFields, String)] = [
                ([:], none),
                ([.authorization: "Bearer not.a.jwt"], badToken),
                ([.authorization: "Bearer"], badRequest),
                ([.authorization: "Basic a2ltOnB3"], badRequest),
                ([.authorization: "Bearer \(forged)"], badToken),
                ([.authorization: "Bearer \(expired)"], badToken),
            ]
            for (headers, challenge) in variants {
                var withType = headers
                withType[.contentType] = "application/json"
                let response = try await client.put("kim", #"{"status":"online"}"#, headers: withType)
                #expect(response.status == .unauthorized)
                #expect(response.errorCode() == "unauthorized")
                #expect(response.headers[.wwwAuthenticate] == challenge, "\(headers)")
                let beat = try await client.execute(uri: "/api/v2/presence/kim/heartbeat", method: .post, headers: headers)
                #expect(beat.status == .unauthorized)
                let delete = try await client.execute(uri: "/api/v2/presence/kim", method: .delete, headers: headers)
                #expect(delete.status == .unauthorized)
            }
            #expect(try await client.get("/api/v2/presence/kim").status == .notFound)
            // The token is taken with the spaces and tabs around it trimmed.
            let token = try await TokenIssuer(secret: RouterFixture.secret).token(subject: "kim")
            let padded = try await client.put(
                "kim", #"{"status":"online"}"#,
                headers: [.authorization: "Bearer  \(token)\t ", .contentType: "application/json"])
            #expect(padded.status == .ok)
        }
    }

    @Test func aTokenNamingCriticalHeaderExtensionsIsRefused() async throws {
        try await RouterFixture().test { client in
            let claims = PresenceClaims(sub: "bob", exp: .init(value: Date().addingTimeInterval(600)))
            let keys = await JWTKeyCollection().add(hmac: HMACKey(from: RouterFixture.secret), digestAlgorithm: .sha256)
            let critical = try await keys.sign(claims, header: ["crit": ["exp"]])
            let plain = try await keys.sign(claims)
            for (token, status) in [(critical, HTTPResponse.Status.unauthorized), (plain, .ok)] {
                let response = try await client.put(
                    "bob", #"{"status":"busy"}"#, headers: [.authorization: "Bearer \(token)", .contentType: "application/json"])
                #expect(response.status == status)
            }
        }
    }

    @Test func aTokenWritesOnlyItsSubjectUnlessAdmin() async throws {
        try await RouterFixture().test { client in
            let other = try await client.put("lea", #"{"status":"online"}"#, headers: try await RouterFixture.headers(for: "max"))
            #expect(other.status == .forbidden)
            #expect(other.errorCode() == "forbidden")
            #expect(try await client.get("/api/v2/presence/lea").status == .notFound)
            let admin = try await client.put("lea", #"{"status":"online"}"#, headers: try await RouterFixture.admin())
            #expect(admin.status == .ok)
        }
    }

    @Test func writesAreRateLimitedPerSubjectAndRefusedRequestsSpendNoToken() async throws {
        let fixture = RouterFixture {
            $0.writesPerSecond = 0.5
            $0.writeBurst = 3
        }
        try await fixture.test { client in
            let headers = try await RouterFixture.headers(for: "ned")
            for _ in 0..<10 {
                #expect(try await client.put("ned", #"{"status":"nope"}"#, headers: headers).status == .badRequest)
            }
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<5 {
                let response = try await client.put("ned", #"{"status":"online"}"#, headers: headers)
                statuses.append(response.status)
                if response.status == .tooManyRequests {
                    #expect(response.errorCode() == "rate_limited")
                    #expect(Int(response.headers[.retryAfter] ?? "") ?? 0 >= 1)
                }
            }
            #expect(statuses == [.ok, .ok, .ok, .tooManyRequests, .tooManyRequests])
            let beat = try await client.execute(uri: "/api/v2/presence/ned/heartbeat", method: .post, headers: headers)
            #expect(beat.status == .tooManyRequests, "heartbeats share the limit")
            let other = try await client.put("ola", #"{"status":"online"}"#, headers: try await RouterFixture.headers(for: "ola"))
            #expect(other.status == .ok, "another subject has its own bucket")
            fixture.clock.advance(seconds: 2)
            #expect(try await client.put("ned", #"{"status":"away"}"#, headers: headers).status == .ok, "the bucket refills")
        }
    }

    @Test func readsAreRateLimitedPerClientAddressWhenConfigured() async throws {
        let fixture = RouterFixture {
            $0.readsPerSecond = 1
            $0.readBurst = 2
        }
        try await fixture.test { client in
            #expect(try await client.get("/api/v2/presence/pia").status == .notFound)
            #expect(try await client.get("/api/v2/presence?users=pia").status == .ok)
            let limited = try await client.get("/api/v2/presence/pia")
            #expect(limited.status == .tooManyRequests)
            #expect(limited.errorCode() == "rate_limited")
            #expect(limited.headers[.retryAfter] != nil)
        }
    }

    @Test func privateReadsNeedAToken() async throws {
        try await RouterFixture { $0.publicReads = false }.test { client in
            let anonymous = try await client.get("/api/v2/presence/pat")
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.errorCode() == "unauthorized")
            let authorized = try await client.get("/api/v2/presence/pat", headers: try await RouterFixture.headers(for: "someone"))
            #expect(authorized.status == .notFound)
        }
    }

    @Test func batchLimitsAndValidation() async throws {
        try await RouterFixture().test { (client: any TestClientProtocol) async throws in
            let hundred = (0..<100).map { "user\($0)" }.joined(separator: ",")
            #expect(try await client.get("/api/v2/presence?users=\(hundred)").status == .ok)
            #expect(try await client.get("/api/v2/presence?users=\(hundred),one-more").errorCode() == "too_many_users")
            #expect(try await client.get("/api/v2/presence?users=").errorCode() == "bad_request")
            #expect(try await client.get("/api/v2/presence").errorCode() == "bad_request")
            #expect(try await client.get("/api/v2/presence?users=ok,b%20ad").errorCode() == "invalid_user_id")
            #expect(try await client.get("/api/v2/presence?users=%EF%BB%BFbob").errorCode() == "invalid_user_id")

            func batch(_ body: String) async throws -> TestResponse {
                try await client.execute(
                    uri: "/api/v2/presence/batch", method: .post, headers: [.contentType: "application/json"],
                    body: ByteBuffer(string: body))
            }
            let thousand = (0..<1000).map { "\"u\($0)\"" }.joined(separator: ",")
            #expect(try await batch(#"{"user_ids":[\#(thousand)]}"#).status == .ok)
            #expect(try await batch(#"{"user_ids":[\#(thousand),"extra"]}"#).errorCode() == "too_many_users")
            #expect(try await batch(#"{"user_ids":[]}"#).errorCode() == "bad_request")
            #expect(try await batch(#"{"users":["a"]}"#).errorCode() == "bad_request")
            #expect(try await batch(#"{"user_ids":["a","no/slash"]}"#).errorCode() == "invalid_user_id")
        }
    }

    @Test func unknownPathsAre404AndKnownPathsWithAnotherMethodAre405WithAllow() async throws {
        try await RouterFixture().test { client in
            let unknown = try await client.get("/api/v1/nothing")
            #expect(unknown.status == .notFound)
            #expect(unknown.errorCode() == "not_found")
            let patch = try await client.execute(uri: "/api/v2/presence/alice", method: .patch)
            #expect(patch.status == .methodNotAllowed)
            #expect(patch.errorCode() == "method_not_allowed")
            let allow = Set((patch.headers[.allow] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            #expect(allow == ["GET", "HEAD", "PUT", "DELETE"])
            let postHealth = try await client.execute(uri: "/health/live", method: .post)
            #expect(postHealth.status == .methodNotAllowed)
            #expect(postHealth.headers[.allow] != nil)
            let getHeartbeat = try await client.get("/api/v2/presence/alice/heartbeat")
            #expect(getHeartbeat.status == .methodNotAllowed)
            #expect(getHeartbeat.headers[.allow] == "POST")
        }
    }

    @Test("Store failures keep their status and Retry-After", arguments: [
        (PresenceError(.unavailable, "the store cannot be reached", retryAfter: 1), HTTPResponse.Status.serviceUnavailable),
        (PresenceError(.outcomeUnknown, "the write may or may not be stored"), .gatewayTimeout),
        (PresenceError(.insufficientStorage, "the store is full"), .init(code: 507)),
        (PresenceError(.internal, "the server could not handle the request"), .internalServerError),
    ])
    func storeFailures(error: PresenceError, status: HTTPResponse.Status) async throws {
        try await RouterFixture().test(over: FailingRepository(error: error)) { client in
            let read = try await client.get("/api/v2/presence/quinn")
            #expect(read.status.code == status.code)
            #expect(read.errorCode() == error.code.rawValue)
            #expect(read.headers[.retryAfter] == error.retryAfter.map { String($0) })
            let write = try await client.put("quinn", #"{"status":"online"}"#, headers: try await RouterFixture.headers(for: "quinn"))
            #expect(write.status.code == status.code)
            #expect(write.json()["error"] as? [String: Any] != nil)
            let batch = try await client.get("/api/v2/presence?users=quinn")
            #expect(batch.status.code == status.code)
        }
    }

    @Test func errorMessagesAreEscapedInTheErrorBody() async throws {
        let error = PresenceError(.unavailable, "hub \"nats-leaf://a\\b\"\nrefused", retryAfter: 1)
        try await RouterFixture().test(over: FailingRepository(error: error)) { client in
            let read = try await client.get("/api/v2/presence/rex")
            let body = try #require(read.json()["error"] as? [String: Any])
            #expect(body["message"] as? String == error.message)
        }
    }
}
