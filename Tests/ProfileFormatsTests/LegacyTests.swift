import FlameDiff
import Foundation
import ProfileFormats
import ProtoPprof
import TestSupport
import Testing

/// Legacy pprof formats against `go tool pprof` (reference.tsv's legacy rows) and crafted inputs.
@Suite struct LegacyTests {
    static let rows: [Fixtures.ReferenceRow] = (try? Fixtures.referenceRows().filter { $0.file.hasPrefix("legacy-") }) ?? []

    @Test func everyLegacyRowIsCovered() {
        #expect(Self.rows.count == 6)
    }

    @Test(arguments: rows)
    func totalAndTopFlatFunctionMatchPprof(_ row: Fixtures.ReferenceRow) throws {
        let bytes = try Fixtures.bytes(row.file)
        #expect(ProfileReader.detect(bytes) == .legacyPprof)
        let profile = try ProfileReader.decode(bytes)
        expectWellFormed(profile)
        #expect(profile.sampleTypes[row.sampleTypeIndex].description == row.sampleType)
        let top = try TopTable(profile: profile, options: TreeOptions(sampleType: .index(row.sampleTypeIndex)))
        #expect(top.total == row.total)
        #expect(top.rows.first?.name == row.topFunction)
        #expect(top.rows.first?.flat == row.topValue)
        let tree = try CallTree(profile: profile, options: TreeOptions(sampleType: .index(row.sampleTypeIndex)))
        #expect(tree.totalValue == row.total)
    }

    @Test func cppCPUShapeMatchesPprof() throws {
        // MANIFEST: 52 samples, 109 locations, default type cpu (index 1), period 10ms.
        let p = try ProfileReader.decode(try Fixtures.bytes("legacy-cpp-cpu.prof"))
        #expect(p.sampleCount == 52)
        #expect(p.locations.count == 109)
        #expect(p.defaultSampleTypeIndex == 1)
        #expect(p.period == 10_000_000)
        #expect(p.periodType?.description == "cpu/nanoseconds")
        #expect(p.strings[Int(p.mappings[0].filename)] == "cppbench_server_main")
        // Unsymbolized frames are named as pprof's own: address and binary.
        let tree = try CallTree(profile: p)
        #expect(tree.names.contains { $0.hasPrefix("0x") && $0.hasSuffix(" [cppbench_server_main]") })
    }

    @Test func goHeapShapeMatchesPprof() throws {
        let p = try ProfileReader.decode(try Fixtures.bytes("legacy-go-heap.txt"))
        #expect(p.sampleCount == 15)
        #expect(p.locations.count == 100)
        #expect(
            p.sampleTypes.map(\.description) == ["alloc_objects/count", "alloc_space/bytes", "inuse_objects/count", "inuse_space/bytes"])
        #expect(p.defaultSampleTypeIndex == 3)
        #expect(p.period == 524_288)
        // Every sample carries its block size as the numeric label `bytes`.
        #expect(p.labels(ofSample: 0).first.map { p.strings[Int($0.key)] } == "bytes")
        #expect(p.labels(ofSample: 0).first?.num == 524_288)
    }

    /// The CPU fixture re-encoded in the other three word layouts reads the same.
    @Test(arguments: [(4, false), (4, true), (8, true)])
    func cpuWordLayouts(_ size: Int, _ bigEndian: Bool) throws {
        let original = try Fixtures.bytes("legacy-cpp-cpu.prof")
        let reference = try ProfileReader.decode(original)
        var words: [UInt64] = []
        var at = 0
        // The fixture is 64-bit little-endian: header, records, the end marker, then the text map.
        func word() -> UInt64 {
            defer { at += 8 }
            return (0..<8).reduce(UInt64(0)) { $0 | UInt64(original[at + $1]) << (8 * UInt64($1)) }
        }
        for _ in 0..<5 { words.append(word()) }
        while true {
            let count = word()
            let depth = word()
            words += [count, depth]
            let pcs = (0..<Int(depth)).map { _ in word() }
            words += pcs
            if count == 0 && depth == 1 && pcs == [0] { break }
        }
        var encoded: [UInt8] = []
        for w in words {
            let v = size == 4 ? w & 0xFFFF_FFFF : w
            let le = (0..<size).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) }
            encoded += bigEndian ? le.reversed() : le
        }
        encoded += original[at...]
        #expect(ProfileReader.detect(encoded) == .legacyPprof)
        let p = try ProfileReader.decode(encoded)
        #expect(p.total(ofType: 0) == reference.total(ofType: 0))
        #expect(p.total(ofType: 1) == reference.total(ofType: 1))
        if size == 8 {
            #expect(p == reference)
        } else {
            // Addresses fit in 32 bits except the shared libraries'; totals and sample count still agree.
            #expect(p.sampleCount == reference.sampleCount)
        }
    }

    @Test func goHeapWithSymbolizedCommentLines() throws {
        let text = """
            heap profile: 2: 64 [4: 128] @ heap/1048576
            1: 32 [2: 64] @ 0x401001 0x402001
            #\t0x401000\tmain.alloc+0x10\t/src/main.go:12
            #\t0x401000\tmain.inlinedHelper+0x10\t/src/helper.go:3
            #\t0x402000\tmain.main+0x20\t/src/main.go:30

            1: 32 [2: 64] @ 0x403001 0x402001
            #\t0x403000\truntime.mallocgc+0x30\t/go/src/runtime/malloc.go:1000
            #\t0x402000\tmain.main+0x20\t/src/main.go:30

            # runtime.MemStats
            # Alloc = 12345
            """
        let p = try decodeText(text)
        #expect(p.sampleTypes.map(\.type) == ["alloc_objects", "alloc_space", "inuse_objects", "inuse_space"])
        let tree = try CallTree(profile: p, options: TreeOptions(sampleType: .name("inuse_space")))
        // 0x401000 holds two frames, innermost first as Go prints them: main.alloc inlined into main.inlinedHelper.
        let paths = Set((0..<tree.nodeCount).filter { tree.selfValue[$0] > 0 }.map { tree.path(of: $0).joined(separator: ";") })
        #expect(paths == ["main.main;main.inlinedHelper;main.alloc", "main.main;runtime.mallocgc"])
        // Values are unsampled at rate 524288 as pprof does: × 1/(1 − e^(−32/524288)).
        let scale = 1 / (1 - exp(-32.0 / 524_288))
        #expect(p.total(ofType: 3) == 2 * Int64(32 * scale))
    }

    @Test func heapWithoutAllocationColumns() throws {
        let p = try decodeText("heap profile: 1: 16 [1: 16] @ heapprofile\n1: 16 [1: 16] @ 0x10 0x20\n")
        #expect(p.sampleTypes.map(\.description) == ["objects/count", "space/bytes"])
        #expect(p.total(ofType: 1) == 16)
    }

    @Test func goMutexProfile() throws {
        let text = """
            --- mutex:
            cycles/second=2000000000
            sampling period=5
            4000000000 3 @ 0x401001 0x402001
            #\t0x401000\tsync.(*Mutex).Unlock+0x10\t/go/src/sync/mutex.go:100
            #\t0x402000\tmain.worker+0x20\t/src/main.go:30

            2000000000 1 @ 0x402001
            """
        let p = try decodeText(text)
        #expect(p.sampleTypes.map(\.description) == ["contentions/count", "delay/nanoseconds"])
        // contentions × period; delay: cycles × period / GHz.
        #expect(p.total(ofType: 0) == 3 * 5 + 1 * 5)
        #expect(p.total(ofType: 1) == 4_000_000_000 * 5 / 2 + 2_000_000_000 * 5 / 2)
        let top = try TopTable(profile: p, options: TreeOptions(sampleType: .index(1)))
        #expect(top.rows.first?.name == "sync.(*Mutex).Unlock")
    }

    @Test func goBlockProfileAndUnknownAttribute() throws {
        let p = try decodeText("--- contention:\ncycles/second=1000000000\n100 2 @ 0x10\n")
        #expect(p.total(ofType: 0) == 2)
        #expect(p.total(ofType: 1) == 100)
        guard case .malformed(.legacyPprof, "line 2", let reason)? = decodeError("--- contention:\nformat=java\n1 1 @ 0x10\n") else {
            Issue.record("expected malformed legacy-pprof at line 2")
            return
        }
        #expect(reason.contains("format"))
    }

    @Test func threadcreateProfile() throws {
        let text = """
            threadcreate profile: total 12
            11 @
            #\t0x0

            1 @ 0x43c5a5 0x43c9cf
            #\t0x43c5a4\truntime.allocm+0x1c4\t/go/src/runtime/proc.go:1500
            #\t0x43c9ce\truntime.newm+0x3e\t/go/src/runtime/proc.go:1800
            """
        let p = try decodeText(text)
        #expect(p.sampleTypes.map(\.description) == ["threadcreate/count"])
        #expect(p.total(ofType: 0) == 12)
        #expect(p.sampleCount == 2)
        let top = try TopTable(profile: p)
        #expect(top.rows.first?.name == "runtime.allocm")
    }
}
