import Foundation
import NATSClient
import Testing

/// Secrets and local access (SPEC §5): files that hold a credential are 0600, the data
/// directories 0700, and the embedded nats-server's client port takes no client without the
/// credential the node keeps in `<nats.data_dir>/nats-client.url`. Real processes.
@Suite("Secrets and the local NATS port", .serialized, .temporaryFiles, .timeLimit(.minutes(3)))
struct SecretFileTests {
    /// The permission bits of `path`.
    static func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return try #require(attributes[.posixPermissions] as? Int) & 0o777
    }

    @Test func credentialFilesAre0600AndDataDirectories0700AlsoWhenAnOlderVersionLeftThemOpen() async throws {
        let directory = TemporaryDirectory.make()
        // What an earlier version left: a world-readable data dir and JetStream store.
        try FileManager.default.createDirectory(
            atPath: directory + "/jetstream", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory)
        let credentials = ["PRESENCE_NATS_LEAF_USER": "leafy", "PRESENCE_NATS_LEAF_PASSWORD": "s3cret-pass"]
        let topology = try await Topology.startCenter(dataDirectory: directory, extraEnvironment: credentials)
        let config = try String(contentsOfFile: directory + "/nats-server.conf", encoding: .utf8)
        #expect(!config.contains("s3cret-pass"), "the leaf password is in it as its bcrypt hash only")
        #expect(config.contains("leafy") && config.contains("$2b$04$"))
        #expect(try Self.mode(directory + "/nats-server.conf") == 0o600, "it holds the credentials' hashes")
        #expect(try Self.mode(directory) == 0o700)
        #expect(try Self.mode(directory + "/jetstream") == 0o700)
        let urlFile = directory + "/nats-client.url"
        #expect(try Self.mode(urlFile) == 0o600)
        let line = try String(contentsOfFile: urlFile, encoding: .utf8)
        let port = try #require(topology.center.natsClientPort)
        #expect(line.hasPrefix("nats://") && line.hasSuffix("@127.0.0.1:\(port)\n"), "one line nats://USER:PASSWORD@127.0.0.1:PORT: \(line)")
        let credential = try #require(line.split(separator: "@").first)
        #expect(credential.split(separator: ":").count == 3, "a user and a password: \(credential)")

        // A restart on another port: the same credential, the file rewritten with the new port.
        await topology.center.stop()
        let again = try await Topology.startCenter(dataDirectory: directory, extraEnvironment: credentials)
        let newPort = try #require(again.center.natsClientPort)
        #expect(newPort != port, "the OS assigned another port")
        #expect(try String(contentsOfFile: urlFile, encoding: .utf8) == credential + "@127.0.0.1:\(newPort)\n")
        #expect(try Self.mode(urlFile) == 0o600)
        await again.center.stop()
    }

    @Test func aLeafKeepsItsConfigAndClientCredentialPrivateToo() async throws {
        let credentials = ["PRESENCE_NATS_LEAF_USER": "leafy", "PRESENCE_NATS_LEAF_PASSWORD": "s3cret-pass"]
        let topology = try await Topology.startCenter(extraEnvironment: credentials)
        let leaf = try topology.startLeaf(name: "private-leaf", extraEnvironment: credentials)
        try await leaf.waitUntilReady()
        #expect(try Self.mode(leaf.dataDirectory) == 0o700)
        #expect(try Self.mode(leaf.dataDirectory + "/nats-server.conf") == 0o600, "it holds the leaf password")
        #expect(try Self.mode(leaf.dataDirectory + "/nats-client.url") == 0o600)
        await leaf.stop()
        await topology.center.stop()
    }

    @Test func aLocalClientWithoutTheCredentialIsRefusedOnTheCenterAndOnALeaf() async throws {
        let topology = try await Topology.startCenter()
        let leaf = try topology.startLeaf(name: "closed-leaf")
        try await leaf.waitUntilReady()
        // The bucket's state: the center's own JetStream API, or the hub's through the leaf.
        for (node, info) in [(topology.center, "$JS.API.STREAM.INFO.KV_presence"), (leaf, "$JS.hub.API.STREAM.INFO.KV_presence")] {
            let port = try #require(node.natsClientPort)
            // Without the credential: as another user of the host would try.
            var refused = false
            do {
                let connection = try await NATSConnection.connect(
                    options: NATSConnectionOptions(urls: ["nats://127.0.0.1:\(port)"], name: "intruder"))
                // Connected: the JetStream API would purge the bucket. Show it answers, then fail.
                let answer = try? await connection.request(info, timeout: .seconds(1))
                Issue.record("a client without credential was let in; STREAM.INFO answered: \(answer.map { String(decoding: $0, as: UTF8.self) } ?? "nothing")")
                await connection.close()
            } catch {
                refused = true
            }
            #expect(refused, "port \(port)")

            // With the URL the node keeps for its operator: in, and JetStream answers.
            let url = node.natsClientURL
            #expect(url.hasSuffix("@127.0.0.1:\(port)"))
            var options = NATSConnectionOptions(urls: [url], name: "operator")
            // Through a leaf (without a leaf credential here) replies come on the leaves' prefix only.
            if node === leaf { options.inboxPrefix = "_INBOX_LEAF" }
            let connection = try await NATSConnection.connect(options: options)
            let answer = try await connection.request(info, timeout: .seconds(2))
            #expect(String(decoding: answer, as: UTF8.self).contains(#""name":"KV_presence""#))
            await connection.close()
        }
        // The node's own connections use the credential: both still serve writes.
        let (written, _) = try await leaf.put("carl", #"{"status":"online"}"#)
        #expect(written == 200)
        await leaf.stop()
        await topology.center.stop()
    }
}
