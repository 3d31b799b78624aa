import FlameDiff
import ProtoPprof

/// A profile read from disk, with how it was encoded.
struct LoadedProfile {
    var path: String
    var fileBytes: Int
    var gzipped: Bool
    var profile: Profile
}

struct ProfileLoadError: Error, CustomStringConvertible {
    var path: String
    var underlying: PprofError
    var description: String { "\(path): \(underlying)" }
}

func loadProfile(_ path: String, limits: DecodeLimits) throws -> LoadedProfile {
    // A raw profile larger than the inflate limit is refused by the decoder too; gzip needs far less on disk.
    var timer = PhaseTimer()
    let bytes = try readFile(path, limit: max(limits.maxInflatedBytes, 64 << 20))
    timer.mark("read file")
    let gzipped = bytes.withUnsafeBytes { Gunzip.isGzip($0) }
    do {
        return LoadedProfile(path: path, fileBytes: bytes.count, gzipped: gzipped, profile: try Profile.decode(bytes, limits: limits))
    } catch {
        throw ProfileLoadError(path: path, underlying: error)
    }
}
