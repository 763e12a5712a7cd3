/// bcrypt hashes made with libxcrypt's crypt(3), for ``BcryptTests``.
enum BcryptVectors {
    static let all: [(password: String, hash: String)] = [
        ("secretpw", "$2b$04$abcdefghijklmnopqrstuuR7nJ5i0sDV0lBNc.LzxiRiKz.t2.3Cm"),
        ("secretpw", "$2b$05$abcdefghijklmnopqrstuuR7UBR7cQzqdiR2LxtQQaYH2tFlWc4Mu"),
        ("", "$2b$04$......................w74bL5gU7LSJClZClCa.Pkz14aTv/XO"),
        ("", "$2b$05$......................J2ihDv8vVf7QZ9BsaRrKyqs2tkn55Yq"),
        ("U*U", "$2b$04$CCCCCCCCCCCCCCCCCCCCC.K7Qr0se1MxuggH4aP4YgB.U2Em1pGSK"),
        ("U*U", "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"),
        ("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "$2b$04$9Ob1dJLlD3E1kDW/XnT0ieXvO8yMzToXWHPeIzJMLD6E59.BLnz0K"),
        ("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "$2b$05$9Ob1dJLlD3E1kDW/XnT0ieRtZ01.QqlFNwNf2fUD0EoDTk3bAIZkG"),
        ("p@ss wörd", "$2b$04$Zz0123456789ZzZzZzZzZubmNLwfkGfcSbk0bTLbDVhcQpMsG2AR."),
        ("p@ss wörd", "$2b$05$Zz0123456789ZzZzZzZzZuEt0zhoD1AtArfjD0H8IzPL..dhbxVkm"),
        ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "$2b$04$LLLLLLLLLLLLLLLLLLLLLOl.Mx8FAeqW/ruQ8j73YyHqf2/1.xik2"),
        ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "$2b$05$LLLLLLLLLLLLLLLLLLLLLOHFGW7HMQVUvAH75rUaoENwf/Rhl7wl."),
    ]
}
