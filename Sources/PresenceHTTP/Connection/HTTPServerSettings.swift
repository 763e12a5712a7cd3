/// The limits of the HTTP server's connections (SPEC §3 "HTTP behaviour"): how long a client
/// may take to send a request head or keep an idle connection, how large a head may be, and
/// how shutdown drains open connections.
public struct HTTPServerSettings: Sendable, Equatable {
    /// A request head must be complete this long after its first byte, or after the connection
    /// opened for its first request (`service.http.header_timeout`); then the connection is
    /// closed. Counted per head, so trickling bytes does not extend it.
    public var headerTimeout: Duration
    /// A keep-alive connection with no request in progress is closed after this long
    /// (`service.http.idle_timeout`).
    public var idleTimeout: Duration
    /// The largest request head, request line and header fields together, in bytes; a larger
    /// one is answered 431 `headers_too_large`.
    public var maxHeadBytes = 16_384
    /// When graceful shutdown begins, how long a connection with no request in progress stays
    /// open for one last request (answered with `Connection: close`).
    public var drainPeriod: Duration = .seconds(2)
    /// After the last response of a connection the server shuts its side and reads (and drops)
    /// what the client still sends, for at most this long, so that closing does not reset the
    /// connection before the client has read the response.
    public var lingerPeriod: Duration = .seconds(2)

    /// Settings with these time-outs (configuration keys, whose defaults are the node's); the
    /// head size and the drain and linger periods are fixed.
    public init(headerTimeout: Duration, idleTimeout: Duration) {
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
    }
}
