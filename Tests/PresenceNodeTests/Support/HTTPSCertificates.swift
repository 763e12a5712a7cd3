import Foundation

/// Certificates made by openssl for the HTTPS tests: a CA, and several server certificates it signs
/// for `localhost` and 127.0.0.1.
enum HTTPSCertificates {
    /// `ca.pem` and `ca.key` in `directory`.
    static func makeAuthority(in directory: String) throws {
        try Shell.run(
            "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=presence-test-ca -keyout ca.key -out ca.pem",
            in: directory)
    }

    /// `<name>.pem` (chain: the server certificate) and `<name>.key`, signed by the CA, with
    /// subject CN `name` and names localhost and 127.0.0.1.
    static func makeServerCertificate(_ name: String, in directory: String) throws {
        try Shell.run(
            """
            printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > \(name).ext && \
            openssl req -newkey rsa:2048 -nodes -subj /CN=\(name) -keyout \(name).key -out \(name).csr && \
            openssl x509 -req -in \(name).csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile \(name).ext -out \(name).pem
            """, in: directory)
    }
}
