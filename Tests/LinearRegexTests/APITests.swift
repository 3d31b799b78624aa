import LinearRegex
import Testing

/// Entry points, text handling and concurrency.
@Suite struct APITests {
    @Test func searchesAnywhere() throws {
        let re = try LinearRegex(#"runtime\.(malloc|memmove)"#)
        #expect(re.matches("runtime.mallocgc"))
        #expect(re.matches("x runtime.memmove y"))
        #expect(!re.matches("runtime.gcStart"))
        #expect(re.pattern == #"runtime\.(malloc|memmove)"#)
        #expect(re.description == re.pattern)
    }

    @Test func everyEntryPointAgrees() throws {
        let re = try LinearRegex("^(?:h|é)+ll[o☺]$")
        let text = "hééhll☺"
        #expect(re.matches(text))
        #expect(re.matches(Substring(text)))
        #expect(re.matches(("xx" + text).dropFirst(2)))
        #expect(re.matches(utf8: Array(text.utf8)))
        #expect(re.matches(utf8: text.utf8))
        #expect(re.matches(utf8: Array(text.utf8).lazy.map { $0 }))  // not contiguous: copied
        Array(text.utf8).withUnsafeBufferPointer { #expect(re.matches(utf8: $0)) }
        #expect(!re.matches(utf8: Array(text.utf8).dropLast()))
    }

    @Test func matchesUnicodeScalarsNotCharacters() throws {
        let decomposed = "e\u{301}"  // one Character, two scalars
        #expect(try !LinearRegex("^.$").matches(decomposed))
        #expect(try LinearRegex("^..$").matches(decomposed))
        #expect(try LinearRegex("^\u{1F600}$").matches("😀"))
    }

    @Test func invalidUTF8ReadsAsReplacementCharacters() throws {
        // As Go: each invalid byte is one U+FFFD; a name repaired by Swift already holds U+FFFD.
        let bytes: [UInt8] = [0x61, 0xFF, 0xC3, 0x62]
        #expect(try LinearRegex(#"^a\x{FFFD}\x{FFFD}b$"#).matches(utf8: bytes))
        #expect(try LinearRegex("^a..b$").matches(utf8: bytes))
        #expect(try LinearRegex(#"^a\x{FFFD}+b$"#).matches(String(decoding: bytes, as: UTF8.self)))
        #expect(try !LinearRegex("^a.b$").matches(utf8: bytes))
    }

    @Test func emptyPatternAndEmptyText() throws {
        #expect(try LinearRegex("").matches(""))
        #expect(try LinearRegex("").matches("x"))
        #expect(try !LinearRegex("x").matches(""))
        #expect(try LinearRegex("x*").matches(""))
        #expect(try !LinearRegex(#"[^\x00-\x{10FFFF}]"#).matches("anything"))
    }

    @Test func namedGroupsBothSpellings() throws {
        #expect(try LinearRegex("(?P<pkg>[a-z]+)/(?<fn>[A-Z]\\w*)").matches("net/Dial"))
    }

    @Test func lazyAndGreedyAgree() throws {
        for p in ["a+?b", "(?U)a+b", "a{2,5}?b", "a*?b"] {
            #expect(try LinearRegex(p).matches("xaab"), "\(p)")
        }
    }

    @Test func sharedAcrossTasks() async throws {
        let re = try LinearRegex(#"(?i)^main\.\(\*server\)\.handle\d+$"#)
        let hits = await withTaskGroup(of: Bool.self) { group in
            for i in 0 ..< 64 {
                group.addTask { re.matches("main.(*Server).Handle\(i)") && !re.matches("main.Server.Handle\(i)") }
            }
            var all = true
            for await ok in group { all = all && ok }
            return all
        }
        #expect(hits)
    }
}
