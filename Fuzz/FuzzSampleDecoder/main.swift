import FuzzSupport
import ProtoPprof
import TestSupport

// Structure-aware differential fuzzing of the hand-written sample decoder: the input is a stream of choices
// from which VariedProfile builds a profile (valid, or broken or corrupted on purpose) with varied sample
// encodings; both decoders must agree (DecoderParity) and nothing may crash. A finding's input replays with
// `VariedProfile.generate(Array(input))` in a test.

func testOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let profile = VariedProfile.generate(Fuzzing.bytes(data, count))
    if let difference = DecoderParity.difference(profile) {
        fatalError("decoders differ: \(difference)\nprofile bytes: \(profile)")
    }
    return 0
}

/// Seeds: windows of 32 samples of every fixture, as choices (see `choices(from:samples:)`), and random ones.
func seeds() -> [(name: String, bytes: [UInt8])] {
    var seeds: [(name: String, bytes: [UInt8])] = []
    for (name, bytes) in Fuzzing.fixtures() {
        guard let p = try? Profile.decode(bytes), p.sampleCount > 0 else { continue }
        for start in Set([0, p.sampleCount / 2]).sorted() {
            seeds.append(("\(name)-\(start)", choices(from: p, samples: start ..< min(p.sampleCount, start + 32))))
        }
    }
    return seeds + Fuzzing.randomSeeds(count: 16, length: 1024)
}

/// Choices for a profile shaped like these samples of `p`: stacks cut to 16 frames with locations folded onto
/// 64, up to 3 values, up to 4 labels with keys and strings folded onto the generator's.
func choices(from p: Profile, samples: Range<Int>) -> [UInt8] {
    let typeCount = max(1, min(3, p.sampleTypes.count))
    let locationCount = max(1, min(VariedProfile.maxLocations, p.locations.count))
    let model = samples.map { i in
        VariedProfile.Sample(
            locations: p.locations(ofSample: i).prefix(VariedProfile.maxStack).map { Int($0) % locationCount },
            values: (0 ..< typeCount).map { $0 < p.sampleTypes.count ? p.value(ofSample: i, type: $0) : 0 },
            labels: p.labels(ofSample: i).prefix(VariedProfile.maxLabels).map { l in
                VariedProfile.Label(key: Int(l.key) % 4, str: l.str == 0 ? 0 : 1 + Int(l.str) % 8, num: l.num, unit: l.numUnit == 0 ? 0 : 1)
            })
    }
    return VariedProfile.choices(typeCount: typeCount, locationCount: locationCount, samples: model)
}

Fuzzing.main(seeds: seeds, testOneInput)
