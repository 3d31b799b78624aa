import ArgumentParser
import FlameDiff
import Foundation
import ProfileService
import ProtoPprof

/// A profile read from a file, with how the file was encoded.
struct LoadedProfile {
    var path: String
    var fileBytes: Int
    var gzipped: Bool
    var profile: Profile

    init(path: String, profile: Profile) {
        self.path = path
        self.profile = profile
        let head = (try? FileHandle(forReadingFrom: URL(fileURLWithPath: path)).read(upToCount: 2)) ?? nil
        gzipped = head.map { [UInt8]($0) == [0x1F, 0x8B] } ?? false
        fileBytes = ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int) ?? 0
    }
}

struct InfoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Show a profile's sample types, units, counts, duration and period.")

    @Argument(help: "A profile (pprof or another format read); without it, the --pyroscope query's profile.")
    var file: String?

    @OptionGroup var decoding: DecodingOptions

    @OptionGroup var pyroscope: PyroscopeQueryOptions

    func validate() throws { _ = try pyroscope.usesPyroscope(file: file != nil) }

    func run() async throws {
        let service = cliService(limits: decoding.limits)
        let source = try pyroscope.profile(file: file, decoding.file)
        let profile = try await runCLI(service, InfoMethod.self, ProfileRequest(profile: source))
        if let file {
            print(describe(LoadedProfile(path: file, profile: profile)), terminator: "")
        } else {
            print("Query: \(source.label)\n" + describeProfile(profile), terminator: "")
        }
    }
}

func describe(_ loaded: LoadedProfile) -> String {
    var out = ""
    out += "File: \(loaded.path)\n"
    out += "Encoding: \(loaded.gzipped ? "gzip" : "raw protobuf"), \(loaded.fileBytes) bytes\n"
    return out + describeProfile(loaded.profile)
}

/// Everything `info` shows of a profile after where it came from.
func describeProfile(_ p: Profile) -> String {
    var out = ""
    let types = p.sampleTypes.enumerated().map { "\($0.offset):\($0.element)" }.joined(separator: " ")
    out += "Sample types: \(types.isEmpty ? "(none)" : types)\n"
    if !p.sampleTypes.isEmpty {
        out += "Default sample type: \(p.defaultSampleTypeIndex):\(p.sampleTypes[p.defaultSampleTypeIndex])\n"
    }
    out += "Samples: \(p.sampleCount) (\(p.stackCount) distinct stacks, \(p.labelSetCount - 1) distinct label sets)\n"
    out += "Locations: \(p.locations.count) (inlined: \(p.locations.filter { $0.lineCount > 1 }.count), without lines: \(p.locations.filter { $0.lineCount == 0 }.count))\n"
    out += "Functions: \(p.functions.count)\n"
    out += "Mappings: \(p.mappings.count)\n"
    out += "Strings: \(p.strings.count) unique\n"
    if let periodType = p.periodType {
        out += "Period: \(p.period) \(periodType)\n"
    } else if p.period != 0 {
        out += "Period: \(p.period)\n"
    }
    if p.durationNanos != 0 { out += "Duration: \(formatValue(p.durationNanos, unit: "nanoseconds"))\n" }
    if p.timeNanos != 0 { out += "Time: \(p.timeNanos) ns since the epoch\n" }
    for (i, t) in p.sampleTypes.enumerated() {
        out += "Total \(t): \(p.total(ofType: i))\n"
    }
    let labelKeys = Set(p.labels.map(\.key)).map { p.strings[Int($0)] }.sorted()
    if !labelKeys.isEmpty { out += "Label keys: \(labelKeys.joined(separator: ", "))\n" }
    if !p.dropFrames.isEmpty { out += "Drop frames: \(p.dropFrames)\n" }
    if !p.keepFrames.isEmpty { out += "Keep frames: \(p.keepFrames)\n" }
    for c in p.comments { out += "Comment: \(c)\n" }
    if !p.docURL.isEmpty { out += "Doc URL: \(p.docURL)\n" }
    return out
}
