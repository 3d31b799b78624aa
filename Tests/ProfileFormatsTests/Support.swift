import FlameDiff
import Foundation
import ProfileFormats
import ProtoPprof
import TestSupport
import Testing

/// Fixtures of this suite (Tests/Fixtures/formats, recorded by scripts/formats/record-fixtures) and helpers.
enum FormatFixtures {
    static let directory = Fixtures.root.appendingPathComponent("formats")

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    static func bytes(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: url(name))) }

    static func decode(_ name: String, format: ProfileFormat? = nil) throws -> Profile {
        try ProfileReader.decode(try bytes(name), format: format)
    }

    /// What independent_parse.py (beside this file) makes of a fixture.
    struct Independent: Decodable {
        var totals: [String: Int64]
        var selfValues: [String: Int64]
        var samplesPerThread: [String: Int64]?

        enum CodingKeys: String, CodingKey {
            case totals
            case selfValues = "self"
            case samplesPerThread
        }
    }

    static func independent(_ kind: String, _ name: String) throws -> Independent {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("independent_parse.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, kind, url(name).path]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "independent_parse.py failed on \(name)")
        return try JSONDecoder().decode(Independent.self, from: data)
    }
}

/// The typed error of decoding `bytes`, or nil when it decodes.
func decodeError(
    _ bytes: [UInt8], format: ProfileFormat? = nil, limits: DecodeLimits = DecodeLimits(), formatLimits: FormatLimits = FormatLimits()
) -> ProfileFormatError? {
    do {
        _ = try ProfileReader.decode(bytes, format: format, limits: limits, formatLimits: formatLimits)
        return nil
    } catch {
        return error
    }
}

func decodeError(_ text: String, format: ProfileFormat? = nil, formatLimits: FormatLimits = FormatLimits()) -> ProfileFormatError? {
    decodeError(Array(text.utf8), format: format, formatLimits: formatLimits)
}

func decodeText(_ text: String, format: ProfileFormat? = nil) throws -> Profile {
    try ProfileReader.decode(Array(text.utf8), format: format)
}

/// Self value per function name for a sample type (TopTable's flat), as the project computes it.
func flatByFunction(_ profile: Profile, sampleType: String? = nil) throws -> [String: Int64] {
    let top = try TopTable(profile: profile, options: TreeOptions(sampleType: sampleType.map { .name($0) }))
    var out: [String: Int64] = [:]
    for row in top.rows where row.flat != 0 { out[row.name] = row.flat }
    return out
}

/// Total of a sample type by its description (`cpu/nanoseconds`).
func total(_ profile: Profile, _ type: String) -> Int64? {
    profile.sampleTypes.firstIndex(where: { $0.description == type }).map { profile.total(ofType: $0) }
}

/// Checks the model invariants every consumer relies on: references in range, stacks and label sets well formed.
func expectWellFormed(_ p: Profile, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(p.strings.first == "", sourceLocation: sourceLocation)
    #expect(p.sampleValues.count == p.sampleCount * p.sampleTypes.count, sourceLocation: sourceLocation)
    #expect(p.sampleLabelSets.count == p.sampleCount, sourceLocation: sourceLocation)
    #expect(p.stackOffsets.first == 0 && p.stackOffsets.last.map(Int.init) == p.stackLocations.count, sourceLocation: sourceLocation)
    #expect(p.sampleStacks.allSatisfy { $0 >= 0 && Int($0) < p.stackCount }, sourceLocation: sourceLocation)
    #expect(p.sampleLabelSets.allSatisfy { $0 >= 0 && Int($0) < p.labelSetCount }, sourceLocation: sourceLocation)
    #expect(p.stackLocations.allSatisfy { $0 >= 0 && Int($0) < p.locations.count }, sourceLocation: sourceLocation)
    #expect(p.lines.allSatisfy { $0.function >= 0 && Int($0.function) < p.functions.count }, sourceLocation: sourceLocation)
    #expect(
        p.locations.allSatisfy {
            $0.mapping >= -1 && Int($0.mapping) < p.mappings.count && Int($0.firstLine) + Int($0.lineCount) <= p.lines.count
        }, sourceLocation: sourceLocation)
    #expect(
        p.functions.allSatisfy {
            Int($0.name) < p.strings.count && Int($0.filename) < p.strings.count && Int($0.systemName) < p.strings.count
        }, sourceLocation: sourceLocation)
    #expect(p.labels.allSatisfy { Int($0.key) < p.strings.count && Int($0.str) < p.strings.count }, sourceLocation: sourceLocation)
    #expect(Set(p.strings).count == p.strings.count, "strings are interned", sourceLocation: sourceLocation)
}
