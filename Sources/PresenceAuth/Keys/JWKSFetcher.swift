import AsyncHTTPClient
import Foundation
import NIOCore

/// Fetches the JWK Set document of `auth.jwks_url` (SPEC §4) with AsyncHTTPClient, within
/// fixed bounds, so that no provider can hold a node's keys or memory:
/// - one deadline (``deadline``, 5 s) for the whole fetch: connect, headers, body and any
///   redirect, also when the provider trickles a byte at a time;
/// - a body cap (``maxBodyBytes``, 1 MiB), checked against `Content-Length` and while the
///   body streams, so a larger body is refused without being read to its end;
/// - redirects followed only to the same origin (scheme, host and port), at most
///   ``maxRedirects``: whoever serves the set can sign any token;
/// - no HTTP cache and no compression.
///
/// Owns its `HTTPClient`: ``shutdown()`` it when done.
struct JWKSFetcher: Sendable {
    static let deadline: Duration = .seconds(5)
    static let maxBodyBytes = 1 << 20
    static let maxRedirects = 3

    private let client: HTTPClient
    private let deadline: Duration

    /// - Parameter deadline: the bound of one fetch (tests may shorten it).
    init(deadline: Duration = Self.deadline) {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        // Refused connections are retried until the connect timeout, which then reports the
        // last failure ("Connection refused"): it ends before the whole fetch's deadline.
        configuration.timeout = .init(connect: .init(deadline * 0.8), read: .init(deadline))
        configuration.decompression = .disabled
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        self.deadline = deadline
    }

    /// Closes the client's connections.
    func shutdown() async {
        try? await client.shutdown()
    }

    /// `url`'s JWK Set document. - Throws: ``JWKSFetchFailure`` saying what went wrong.
    func fetch(_ url: URL) async throws(JWKSFetchFailure) -> String {
        let shown = TokenKeySources.redacted(url)
        let limit = deadline
        do {
            return try await withThrowingTaskGroup(of: String?.self) { group in
                group.addTask { try await self.follow(url, shown: shown) }
                group.addTask {
                    try await Task.sleep(for: limit)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let document = first else {
                    throw JWKSFetchFailure(url: shown, "timeout: no complete answer within \(JWKSFetchFailure.seconds(limit))")
                }
                return document
            }
        } catch let failure as JWKSFetchFailure {
            throw failure
        } catch {
            throw JWKSFetchFailure(url: shown, JWKSFetchFailure.reason(for: error, limit: limit))
        }
    }

    /// Requests `url`, following same-origin redirects; returns the checked document.
    private func follow(_ url: URL, shown: String) async throws -> String {
        var current = url
        for _ in 0...Self.maxRedirects {
            var request = HTTPClientRequest(url: current.absoluteString)
            request.headers.add(name: "Accept", value: "application/json")
            request.headers.add(name: "Cache-Control", value: "no-cache")
            let response = try await client.execute(request, timeout: .init(deadline))
            let status = response.status.code
            if [301, 302, 303, 307, 308].contains(status) {
                guard let location = response.headers.first(name: "Location"),
                    let next = URL(string: location, relativeTo: current)?.absoluteURL
                else { throw JWKSFetchFailure(url: shown, "HTTP status \(status) without a usable Location") }
                guard Self.origin(of: next) == Self.origin(of: current) else {
                    throw JWKSFetchFailure(
                        url: shown, "redirect to another origin (\(TokenKeySources.redacted(next))) refused")
                }
                current = next
                continue
            }
            guard status == 200 else { throw JWKSFetchFailure(url: shown, "HTTP status \(status)") }
            if let length = response.headers.first(name: "Content-Length").flatMap(Int.init), length > Self.maxBodyBytes {
                throw JWKSFetchFailure(url: shown, "body over 1 MiB (Content-Length \(length)) refused")
            }
            var body = ByteBuffer()
            for try await chunk in response.body {
                guard body.readableBytes + chunk.readableBytes <= Self.maxBodyBytes else {
                    throw JWKSFetchFailure(url: shown, "body over 1 MiB refused")
                }
                body.writeImmutableBuffer(chunk)
            }
            let document = String(buffer: body)
            guard Self.isJWKSet(document) else {
                let type = response.headers.first(name: "Content-Type")?.split(separator: ";").first
                    .map { $0.trimmingCharacters(in: .whitespaces) } ?? "no Content-Type"
                throw JWKSFetchFailure(url: shown, "the answer is not a JWK Set (\(type), \(body.readableBytes) bytes)")
            }
            return document
        }
        throw JWKSFetchFailure(url: shown, "more than \(Self.maxRedirects) redirects")
    }

    /// Whether `document` is a JSON object with a `keys` array.
    static func isJWKSet(_ document: String) -> Bool {
        guard let object = try? JSONSerialization.jsonObject(with: Data(document.utf8)) as? [String: Any] else { return false }
        return object["keys"] is [Any]
    }

    /// Scheme, host and port (the scheme's default when none is given), lowercased.
    static func origin(of url: URL) -> String? {
        guard let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased() else { return nil }
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        return "\(scheme)://\(host):\(port)"
    }
}
