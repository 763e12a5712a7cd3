import Crypto
import JWTKit

extension HMACKey {
    /// The HS256 key for a shared secret of any length.
    ///
    /// jwt-kit asserts that HMAC keys are at least 32 bytes (RFC 7518 asks for that). HMAC
    /// itself pads shorter keys with zero bytes to its block size (RFC 2104), so padding a
    /// short secret with zeros to 32 bytes yields exactly the same signatures: tokens made by
    /// any other library with the same short secret still verify. The node warns about short
    /// secrets at start-up.
    static func presenceSecret(_ secret: String) -> HMACKey {
        var bytes = Array(secret.utf8)
        if bytes.count < 32 { bytes.append(contentsOf: repeatElement(0, count: 32 - bytes.count)) }
        return HMACKey(key: SymmetricKey(data: bytes))
    }
}
