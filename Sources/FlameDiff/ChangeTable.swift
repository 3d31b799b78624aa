/// One function's change between baseline and comparison.
public struct FunctionChange: Sendable, Equatable {
    public enum Status: String, Sendable {
        case new, vanished, changed, unchanged
    }

    public var name: String
    public var leftSelf: Int64
    public var rightSelf: Int64
    public var leftTotal: Int64
    public var rightTotal: Int64
    /// Shares of each side's own total, in percent.
    public var leftSelfShare: Double
    public var rightSelfShare: Double
    public var leftTotalShare: Double
    public var rightTotalShare: Double
    /// Deltas under the table's normalization (percentage points for `share`, the unit otherwise).
    public var selfDelta: Double
    public var totalDelta: Double
    /// right / left under the normalization (nil when the function is new).
    public var selfFactor: Double?
    public var status: Status
}

/// Functions ranked by how their self and total (cum) values changed.
public struct ChangeTable: Sendable {
    public let normalization: DiffNormalization
    public let leftTicks: Int64
    public let rightTicks: Int64
    /// Every function present on either side, by self delta (largest increase first).
    public let rows: [FunctionChange]

    /// `diff` must have been built with function totals (the default).
    public init(_ diff: DiffTree, normalization: DiffNormalization = .share) {
        precondition(diff.hasFunctionTotals, "ChangeTable needs a DiffTree built with functionTotals: true")
        self.normalization = normalization
        leftTicks = diff.leftTicks
        rightTicks = diff.rightTicks
        let l = Double(leftTicks)
        let r = Double(rightTicks)
        // The baseline's scale under `normalize`; computed once so that equal sides give exactly 1.
        let scale = l == 0 ? 0 : r / l
        func share(_ v: Int64, _ total: Double) -> Double { total == 0 ? 0 : 100 * Double(v) / total }
        func delta(_ left: Int64, _ right: Int64) -> Double {
            switch normalization {
            case .share: return share(right, r) - share(left, l)
            case .raw: return Double(right - left)
            case .normalize: return Double(right) - Double(left) * scale
            }
        }
        func factor(_ left: Int64, _ right: Int64) -> Double? {
            guard left != 0 else { return nil }
            switch normalization {
            case .share: return l == 0 || r == 0 ? nil : share(right, r) / share(left, l)
            case .raw: return Double(right) / Double(left)
            case .normalize: return scale == 0 ? nil : Double(right) / (Double(left) * scale)
            }
        }
        var rows: [FunctionChange] = []
        for id in diff.names.indices {
            let ls = diff.leftFlat[id], rs = diff.rightFlat[id], lt = diff.leftCum[id], rt = diff.rightCum[id]
            if ls == 0 && rs == 0 && lt == 0 && rt == 0 { continue }
            let status: FunctionChange.Status
            if lt == 0 && rt != 0 {
                status = .new
            } else if rt == 0 && lt != 0 {
                status = .vanished
            } else {
                status = delta(ls, rs) == 0 && delta(lt, rt) == 0 ? .unchanged : .changed
            }
            rows.append(
                FunctionChange(
                    name: diff.names[id], leftSelf: ls, rightSelf: rs, leftTotal: lt, rightTotal: rt,
                    leftSelfShare: share(ls, l), rightSelfShare: share(rs, r), leftTotalShare: share(lt, l),
                    rightTotalShare: share(rt, r), selfDelta: delta(ls, rs), totalDelta: delta(lt, rt),
                    selfFactor: factor(ls, rs), status: status))
        }
        rows.sort { a, b in
            if a.selfDelta != b.selfDelta { return a.selfDelta > b.selfDelta }
            return bytewiseLess(a.name, b.name)
        }
        self.rows = rows
    }

    /// The largest increases by self delta.
    public func increases(_ n: Int) -> [FunctionChange] { Array(rows.filter { $0.selfDelta > 0 }.prefix(n)) }

    /// The largest decreases by self delta, largest first.
    public func decreases(_ n: Int) -> [FunctionChange] { Array(rows.filter { $0.selfDelta < 0 }.reversed().prefix(n)) }

    /// The largest changes of total (cum) value, by absolute delta.
    public func byTotalDelta(_ n: Int) -> [FunctionChange] {
        Array(
            rows.filter { $0.totalDelta != 0 }
                .sorted { abs($0.totalDelta) != abs($1.totalDelta) ? abs($0.totalDelta) > abs($1.totalDelta) : $0.name < $1.name }
                .prefix(n))
    }
}
