import Dispatch
import Synchronization

/// Decoding a large profile's samples on two threads: the top-level fields are split where the samples
/// before the split hold half the sample bytes, each half is decoded into arrays of its own, and the second
/// is appended to the first as one pass over both would have written it.
extension SampleDecoder {
    /// The top-level fields in two halves: `0 ..< split` and `split ..< end`.
    struct Halves {
        var whole: FieldCounts
        var first: FieldCounts
        var second: FieldCounts
        var split: Int { first.end }
        /// An upper bound of the bytes the two halves and the merge write: the first half's arrays end as one
        /// pass over everything would leave them (within `memoryBound(whole)`, with capacity for the whole
        /// reserved, so appending never grows them), and the second half's own arrays, tables and caches live
        /// until merged.
        var memoryBound: Int {
            let (sum, overflow) = SampleDecoder.memoryBound(whole).addingReportingOverflow(SampleDecoder.memoryBound(second))
            return overflow ? .max : sum
        }
    }

    /// How many places pass 1 notes where two threads could split the input (evenly spaced in its bytes).
    static let splitCandidates = 256

    /// Where to split (the candidate from pass 1 that halves the sample bytes best), or nil when one thread
    /// should decode: a profile below `minimum`, samples that do not split (one huge sample), or a memory limit
    /// that allows one pass but not two halves.
    static func halves(_ whole: FieldCounts, splits: [FieldCounts], minimum: DecodeLimits.TwoThreadMinimum, maxMemory: Int) -> Halves? {
        guard whole.samples >= minimum.samples || whole.sampleBytes >= minimum.sampleBytes,
            let first = splits.min(by: { abs(2 * $0.sampleBytes - whole.sampleBytes) < abs(2 * $1.sampleBytes - whole.sampleBytes) })
        else { return nil }
        let second = FieldCounts(
            samples: whole.samples - first.samples, sampleBytes: whole.sampleBytes - first.sampleBytes,
            restBytes: whole.restBytes - first.restBytes, end: whole.end)
        let halves = Halves(whole: whole, first: first, second: second)
        guard first.samples > 0, second.samples > 0, halves.memoryBound <= maxMemory else { return nil }
        return halves
    }

    /// Decodes the second half on another thread while this one decodes the first, then appends the second
    /// to the first. Errors are those of one pass: the first half's if it fails (its samples come first), else
    /// the second half's, which numbers its samples after the first half's.
    static func decodeInHalves(_ bytes: UnsafeBufferPointer<UInt8>, _ halves: Halves) throws(Failure) -> SampleDecoder {
        let input = SharedInput(bytes: bytes)
        let second = SecondHalf()
        let secondDone = DispatchGroup()
        DispatchQueue.global().async(group: secondDone) {
            let result = Result { () throws(Failure) -> SampleDecoder in
                try decode(input.bytes, halves.split ..< input.bytes.count, capacity: halves.second, firstSample: halves.first.samples)
            }
            second.result.withLock { $0 = result }
        }
        // The other thread reads `bytes` until it is done: wait for it on every way out, failures included.
        defer { secondDone.wait() }
        return try decode(bytes, 0 ..< halves.split, capacity: halves.whole, firstSample: 0) { out, rest throws(Failure) in
            secondDone.wait()
            let decoded = try second.take()
            out.append(decoded)
            rest.append(contentsOf: decoded.rest)
        }
    }

    /// The input, shared read-only by both threads. Unchecked: neither thread writes it, and
    /// `decodeInHalves` does not return (so its caller keeps the memory alive) before the second thread is done.
    private struct SharedInput: @unchecked Sendable {
        let bytes: UnsafeBufferPointer<UInt8>
    }

    /// What the second thread hands over.
    private final class SecondHalf: Sendable {
        let result = Mutex<Result<SampleDecoder, Failure>?>(nil)

        /// The second half's samples, or its error; only after the thread is done.
        func take() throws(Failure) -> SampleDecoder {
            let taken = result.withLock { r in
                defer { r = nil }
                return r
            }
            guard let taken else { preconditionFailure("the second half was taken before it was decoded") }
            return try taken.get()
        }
    }
}

extension SampleDecoder.Output {
    /// Appends `b`, the samples decoded from the fields right after the ones written here, as one pass over
    /// both would have written them. `b`'s stacks and label sets are interned here in `b`'s id order (an equal
    /// one keeps its id here, a new one gets the next): ids are numbered by first use, so they come out as one
    /// pass numbers them. The arrays have room for both (allocated for the whole profile).
    mutating func append(_ b: SampleDecoder) {
        var stackIDs: [Int32] = []
        stackIDs.reserveCapacity(b.stackOffsets.count - 1)
        for k in 0 ..< b.stackOffsets.count - 1 {
            let start = locationCount
            for i in Int(b.stackOffsets[k]) ..< Int(b.stackOffsets[k + 1]) {
                locations[locationCount] = b.stackLocations[i]
                locationCount += 1
            }
            stackIDs.append(internStack(from: start))
        }
        // Set 0, the empty set, is set 0 in both.
        var labelSetIDs: [Int32] = [0]
        labelSetIDs.reserveCapacity(b.labelSetOffsets.count - 1)
        for k in 1 ..< b.labelSetOffsets.count - 1 {
            let start = labelCount
            for i in Int(b.labelSetOffsets[k]) ..< Int(b.labelSetOffsets[k + 1]) {
                labels[labelCount] = b.labels[i]
                labelCount += 1
            }
            labelSetIDs.append(internLabelSet(from: start))
        }
        for stack in b.sampleStacks { sampleStacks.append(stackIDs[Int(stack)]) }
        for set in b.sampleLabelSets { sampleLabelSets.append(labelSetIDs[Int(set)]) }
        valueCounts.append(contentsOf: b.valueCounts)
        for v in b.values {
            values[valueCount] = v
            valueCount += 1
        }
        fallback = fallback || b.needsFallback
    }
}
