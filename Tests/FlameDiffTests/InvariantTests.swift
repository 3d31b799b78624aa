import FlameDiff
import Foundation
import ProtoPprof
import TestSupport
import Testing

/// For every decodable fixture: folded values sum to the total, and the levels format and the data frame
/// describe the same tree.
@Suite struct InvariantTests {
    static let files: [String] = (try? Fixtures.decodableProfiles()) ?? []

    @Test(arguments: files)
    func foldedSumsToTotal(_ file: String) throws {
        let tree = try CallTree(profile: Profile.decode(Fixtures.bytes(file)))
        let text = String(decoding: FoldedExport.bytes(tree), as: UTF8.self)
        var sum: Int64 = 0
        for line in text.split(separator: "\n") {
            let value = line[line.index(after: line.lastIndex(of: " ")!)...]
            sum += Int64(value)!
        }
        #expect(sum == tree.totalValue)
    }

    @Test(arguments: files)
    func levelsAndDataFrameDescribeTheSameTree(_ file: String) throws {
        let tree = try CallTree(profile: Profile.decode(Fixtures.bytes(file)))
        for maxNodes in [0, 64] {
            let graph = FlameGraph(tree: tree, maxNodes: maxNodes)
            let levels = FlameGraphLevels(graph)
            let frame = try JSONSerialization.jsonObject(with: Data(DataFrameExport.json(graph))) as! [String: Any]
            let values = (frame["data"] as! [String: Any])["values"] as! [[NSNumber]]
            let (frameLevel, frameValue, frameSelf) = (values[0], values[1], values[2])
            #expect(frameLevel.count == graph.nodeCount)
            // Totals per depth agree.
            var fromLevels: [Int64] = []
            var selfFromLevels: Int64 = 0
            for level in levels.levels {
                var sum: Int64 = 0
                for i in stride(from: 0, to: level.count, by: 4) {
                    sum += level[i + 1]
                    selfFromLevels += level[i + 2]
                }
                fromLevels.append(sum)
            }
            var fromFrame = [Int64](repeating: 0, count: fromLevels.count)
            var selfFromFrame: Int64 = 0
            for i in frameLevel.indices {
                fromFrame[frameLevel[i].intValue] += frameValue[i].int64Value
                selfFromFrame += frameSelf[i].int64Value
            }
            #expect(fromLevels == fromFrame)
            #expect(levels.total == tree.totalValue)
            // Self values over all nodes add up to the total: nothing lost in truncation.
            #expect(selfFromLevels == tree.totalValue)
            #expect(selfFromFrame == tree.totalValue)
            if maxNodes > 0 { #expect(graph.nodeCount - 1 <= maxNodes) }
        }
    }
}
