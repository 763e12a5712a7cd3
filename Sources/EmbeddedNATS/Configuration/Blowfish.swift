/// Blowfish's state and block cipher, with the expensive key schedule bcrypt repeats
/// (``Bcrypt``); nothing else uses it.
struct Blowfish {
    private var p: [UInt32] = BlowfishDigitsOfPi.p
    /// The four S-boxes, 256 words each, one after the other.
    private var s: [UInt32] = BlowfishDigitsOfPi.s

    /// Encrypts one 64-bit block.
    func encrypt(_ left: UInt32, _ right: UInt32) -> (UInt32, UInt32) {
        p.withUnsafeBufferPointer { p in
            s.withUnsafeBufferPointer { s in Self.encrypt(left, right, p: p, s: s) }
        }
    }

    /// bcrypt's ExpandKey: the P-array and the S-boxes mixed with `key` (used cyclically),
    /// then replaced by successive encryptions of a block that is each time XORed with the
    /// next 64 bits of `salt` (used cyclically; nil: the plain Blowfish key schedule).
    mutating func expand(key: [UInt8], salt: [UInt8]?) {
        var keyIndex = 0
        for index in 0..<18 { p[index] ^= Self.word(key, &keyIndex) }
        var saltIndex = 0
        var left: UInt32 = 0
        var right: UInt32 = 0
        p.withUnsafeMutableBufferPointer { p in
            s.withUnsafeMutableBufferPointer { s in
                func next() {
                    if let salt {
                        left ^= Self.word(salt, &saltIndex)
                        right ^= Self.word(salt, &saltIndex)
                    }
                    (left, right) = Self.encrypt(left, right, p: UnsafeBufferPointer(p), s: UnsafeBufferPointer(s))
                }
                for index in stride(from: 0, to: 18, by: 2) {
                    next()
                    p[index] = left
                    p[index + 1] = right
                }
                for index in stride(from: 0, to: 1024, by: 2) {
                    next()
                    s[index] = left
                    s[index + 1] = right
                }
            }
        }
    }

    private static func encrypt(
        _ left: UInt32, _ right: UInt32, p: UnsafeBufferPointer<UInt32>, s: UnsafeBufferPointer<UInt32>
    ) -> (UInt32, UInt32) {
        var left = left
        var right = right
        for round in 0..<16 {
            left ^= p[round]
            let f =
                ((s[Int(left >> 24)] &+ s[256 + Int((left >> 16) & 0xff)]) ^ s[512 + Int((left >> 8) & 0xff)])
                &+ s[768 + Int(left & 0xff)]
            right ^= f
            swap(&left, &right)
        }
        return (right ^ p[17], left ^ p[16])
    }

    /// The next four bytes of `data` (from `index`, wrapping around) as a big-endian word.
    private static func word(_ data: [UInt8], _ index: inout Int) -> UInt32 {
        var word: UInt32 = 0
        for _ in 0..<4 {
            word = word << 8 | UInt32(data[index])
            index = (index + 1) % data.count
        }
        return word
    }
}
