import Crypto

/// How a user id appears in a span: never in clear, as the first 16 hexadecimal digits of
/// its SHA-256, the same on every node (spans of one user can be found by hashing the id).
enum TracedUserID {
    /// The hash of `user` (the id as the client named it, percent-decoded).
    static func hash(_ user: String) -> String {
        let digest = SHA256.hash(data: Array(user.utf8))
        return digest.prefix(8).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 0x10 ? "0" + hex : hex
        }.joined()
    }
}
