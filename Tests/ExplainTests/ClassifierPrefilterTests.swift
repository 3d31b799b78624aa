import FlameDiff
import ProtoPprof
import TestSupport
import Testing

@testable import Explain

/// The classifier's fast path (a literal prefilter before the ICU expressions, a byte-level runtime check)
/// against the straightforward one (every expression on every name): the same categories for every name.
@Suite struct ClassifierPrefilterTests {
    static let files: [String] = (try? Fixtures.decodableProfiles()) ?? []

    /// Names that probe the prefilter's edges: case folding, non-ASCII, anchors, literals split by groups.
    static let tricky: [String] = [
        "crypto/sha256.block", "x.SHA256sum", "x.Sha512", "x.ſha256", "x.\u{212A}ey", "libMD5.so", "GZIP.reader", "zstd.decode",
        "re.compile", "x/re.search", "sre_compile.compile", "/usr/lib/python3/re/_parser.py", "re._compiler.compile",
        "regexp.(*Regexp).doExecute", "myRegExp", "a.regexCache", "regexCache", "x.select", "select", "poll select",
        "time.Now", "time.Now2", "runtime.gopark", "runtime.goparkX", ":(idle)", "(idle)", "x.Concat", "x.ConcatY",
        "sync.(*Mutex).Lock", "sync.(*RWMutex).RLock", "runtime.mallocgc", "my malloc", "new [c function]", "anew [c function]",
        "G1 Young", "GC Thread", "[[vdso]]", "java/util/regex/Pattern.compile", "fmt.Sprintf", "fmt.\u{301}x", "runtime.\u{301}x",
        "main.main", "github.com/a/b.c", "encoding/json.Marshal", "context.Background", "net/http.(*conn).serve", "",
        "é", "日本.語", "logging.info", "x.log.Printf", "zap.go.uber.org/zap", "aes", "AES", "HashValue",
    ]

    static func assertSame(_ names: [String], catalogue: [Category]) {
        let fast = Classifier(catalogue: catalogue, names: names)
        let reference = Classifier(catalogue: catalogue, names: names, usePrefilter: false)
        for i in names.indices {
            #expect(fast.nameCategory[i] == reference.nameCategory[i], "category of \(names[i])")
            #expect(fast.leafCategory[i] == reference.leafCategory[i], "leaf category of \(names[i])")
            #expect(fast.isUser[i] == reference.isUser[i], "user code: \(names[i])")
            #expect(Analysis.looksLikeRuntimeFast(names[i]) == Analysis.looksLikeRuntime(names[i]), "runtime: \(names[i])")
        }
    }

    @Test func trickyNamesGetTheSameCategories() throws {
        Self.assertSame(Self.tricky, catalogue: try Category.catalogue())
    }

    @Test func thePrefilterRejectsWhatCannotMatch() throws {
        let catalogue = try Category.catalogue()
        let names = ["github.com/acme/svc.readBatch", "main.work"]
        let prefilter = LiteralPrefilter(catalogue: catalogue)
        var lowered: [UInt8] = []
        var candidates = [Bool](repeating: true, count: catalogue.count)
        for var name in names {
            name.withUTF8 { prefilter.candidates($0, lowered: &lowered, into: &candidates) }
            // Only categories without a literal may stay: the filter must cut some work to be worth it.
            #expect(candidates.filter { $0 }.count < catalogue.count / 2, "\(name): \(candidates)")
        }
        #expect(LiteralPrefilter.requiredLiteral("(^|[./])re\\.(compile|match)").map { String(decoding: $0.bytes, as: UTF8.self) } == "re.")
        #expect(LiteralPrefilter.requiredLiteral("(?i)sha(1|256)").map { String(decoding: $0.bytes, as: UTF8.self) } == "sha")
        #expect(LiteralPrefilter.requiredLiteral("a|b") == nil)
        #expect(LiteralPrefilter.requiredLiteral("ab?c").map { String(decoding: $0.bytes, as: UTF8.self) } == "c" || LiteralPrefilter.requiredLiteral("ab?c").map { String(decoding: $0.bytes, as: UTF8.self) } == "a")
    }

    @Test(arguments: files)
    func everyFixtureNameGetsTheSameCategories(_ file: String) throws {
        let profile = try Profile.decode(Fixtures.bytes(file))
        let catalogue = try Category.catalogue()
        for key in FrameKey.allCases {
            let tree = try CallTree(profile: profile, options: TreeOptions(frameKey: key))
            Self.assertSame(tree.names, catalogue: catalogue)
        }
    }
}
