/// Maps pprof ids (nonzero, unique) to dense array indexes. Real profiles number their
/// locations 1...n, which needs no table at all; sparse ids fall back to a dictionary.
struct DenseIDMap {
    private enum Storage {
        case sequential(count: Int)
        case table([Int32])
        case dictionary([UInt64: Int32])
    }

    private let storage: Storage

    /// Builds the map; `field` names the repeated field for error messages (e.g. "location").
    init(ids: [UInt64], field: String) throws(PprofError) {
        var sequential = true
        var maxID: UInt64 = 0
        for (i, id) in ids.enumerated() {
            if id == 0 { throw .invalid(field: "\(field)[\(i)].id", reason: "id 0 is reserved (found \(field) with reserved id 0)") }
            if id != UInt64(i + 1) { sequential = false }
            maxID = max(maxID, id)
        }
        if sequential {
            storage = .sequential(count: ids.count)
        } else if maxID <= UInt64(max(1024, ids.count * 4)) {
            var table = [Int32](repeating: -1, count: Int(maxID) + 1)
            for (i, id) in ids.enumerated() {
                if table[Int(id)] >= 0 { throw .invalid(field: "\(field)[\(i)].id", reason: "duplicate id \(id)") }
                table[Int(id)] = Int32(i)
            }
            storage = .table(table)
        } else {
            var dictionary = [UInt64: Int32](minimumCapacity: ids.count)
            for (i, id) in ids.enumerated() {
                if dictionary.updateValue(Int32(i), forKey: id) != nil {
                    throw .invalid(field: "\(field)[\(i)].id", reason: "duplicate id \(id)")
                }
            }
            storage = .dictionary(dictionary)
        }
    }

    /// The dense index of `id`, or -1 when no element has that id.
    @inline(__always)
    func index(of id: UInt64) -> Int32 {
        switch storage {
        case .sequential(let count):
            return id >= 1 && id <= UInt64(count) ? Int32(truncatingIfNeeded: id - 1) : -1
        case .table(let table):
            return id < UInt64(table.count) ? table[Int(id)] : -1
        case .dictionary(let dictionary):
            return dictionary[id] ?? -1
        }
    }

    var isSequential: Bool {
        if case .sequential = storage { return true }
        return false
    }
}
