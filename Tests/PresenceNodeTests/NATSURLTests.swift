import NATSClient
import Testing

/// A NATS URL shown publicly (`/health/info`'s `server_url`) never carries its credentials:
/// with `nats.embedded: false`, `nats.url` may hold them.
struct NATSURLTests {
    @Test(arguments: [
        ("nats://user:secret@nats.example:4222", "nats://nats.example:4222"),
        ("nats://token@127.0.0.1:4222", "nats://127.0.0.1:4222"),
        ("tls://u:p%40ss@host:4443/path@x", "tls://host:4443/path@x"),
        ("nats://host:4222", "nats://host:4222"),
        ("host:4222", "host:4222"),
    ])
    func credentialsAreLeftOut(url: String, shown: String) {
        #expect(NATSURL.withoutCredentials(url) == shown)
    }
}
