import Dispatch
import Foundation
import ProtoPprof
import Synchronization
import TestSupport
import Testing

/// Requests' memory reservations: they grow with what inflating really produces (the gzip trailer is only a
/// hint), wait briefly for room, are refused past the budget, and are given back when their owner goes.
@Suite struct MemoryReservationTests {
    /// gzip of `count` zero bytes whose trailer claims `claimed` bytes.
    static func lyingGzip(_ count: Int, claims claimed: UInt32) -> [UInt8] {
        var g = gzip([UInt8](repeating: 0, count: count))
        let t = g.count - 4
        for k in 0 ..< 4 { g[t + k] = UInt8(truncatingIfNeeded: claimed >> (8 * UInt32(k))) }
        return g
    }

    @Test func inflatingGrowsTheReservationPastALyingTrailer() {
        let budget = MemoryBudget(limit: 1 << 30)
        let reservation = MemoryReservation(budget: budget)
        let input = Self.lyingGzip(8 << 20, claims: 100)
        let result = reservation.run { () -> Result<[UInt8], PprofError> in
            input.withUnsafeBytes { raw in Result { () throws(PprofError) -> [UInt8] in try Gunzip.inflate(raw, limit: 64 << 20) } }
        }
        // libdeflate checks ISIZE after inflating: the lie is caught, but only once the memory was used.
        #expect(throws: PprofError.self) { try result.get() }
        #expect(reservation.bytes >= MemoryReservation.need(inflated: 8 << 20))
        #expect(budget.inUse == reservation.bytes)
    }

    /// A trailer claiming 4 GiB makes no one reserve 5x the cap: deflate cannot produce more than 1032 bytes per
    /// input byte, so a small input reserves little (and the lie is caught at the end).
    @Test func aBigTrailerOnSmallInputReservesLittle() {
        let budget = MemoryBudget(limit: 64 << 20, wait: .milliseconds(20))
        let reservation = MemoryReservation(budget: budget)
        let input = Self.lyingGzip(1 << 20, claims: .max)
        let result = reservation.run { () -> Result<[UInt8], PprofError> in
            input.withUnsafeBytes { raw in Result { () throws(PprofError) -> [UInt8] in try Gunzip.inflate(raw, limit: 512 << 20) } }
        }
        #expect(throws: PprofError.self) { try result.get() }
        #expect(reservation.refused == nil)
        #expect(reservation.bytes <= MemoryReservation.need(inflated: input.count * Gunzip.maxRatio))
    }

    @Test func aBudgetWithoutRoomRefusesAfterItsWait() {
        let budget = MemoryBudget(limit: 4 << 20, wait: .milliseconds(20))
        let reservation = MemoryReservation(budget: budget)
        let input = gzip([UInt8](repeating: 0, count: 8 << 20))
        let result = reservation.run { () -> Result<[UInt8], PprofError> in
            input.withUnsafeBytes { raw in Result { () throws(PprofError) -> [UInt8] in try Gunzip.inflate(raw, limit: 64 << 20) } }
        }
        #expect(throws: PprofError.memoryBudget) { try result.get() }
        #expect((reservation.refused ?? 0) >= 8 << 20)
        #expect(budget.inUse == reservation.bytes)
    }

    @Test func reservationsAreGivenBackWhenTheirOwnerGoes() {
        let budget = MemoryBudget(limit: 100, wait: .milliseconds(1))
        do {
            let a = MemoryReservation(budget: budget)
            #expect(a.grow(by: 60))
            let b = MemoryReservation(budget: budget)
            #expect(!b.grow(by: 60))
            #expect(b.refused == 60)
            #expect(b.grow(by: 40))
            #expect(budget.inUse == 100)
        }
        #expect(budget.inUse == 0)
        #expect(budget.peakInUse == 100)
    }

    /// A reservation waits on a thread of its own (decoding runs on one), here a plain Thread.
    @Test func aWaitingReservationGetsRoomThatIsFreed() {
        let budget = MemoryBudget(limit: 100, wait: .seconds(10))
        var holder: MemoryReservation? = MemoryReservation(budget: budget)
        #expect(holder?.grow(by: 100) == true)
        let got = Flag()
        let done = DispatchSemaphore(value: 0)
        Thread {
            got.set(MemoryReservation(budget: budget).grow(by: 50))
            done.signal()
        }.start()
        Thread.sleep(forTimeInterval: 0.05)
        holder = nil
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(got.value)
        #expect(holder == nil && budget.inUse == 0)
    }

    /// Without a reservation on the thread (the CLI), nothing is counted.
    @Test func noReservationNoAccounting() throws {
        let input = gzip([UInt8](repeating: 7, count: 1 << 20))
        let out = try input.withUnsafeBytes { raw throws(PprofError) in try Gunzip.inflate(raw, limit: 2 << 20) }
        #expect(out.count == 1 << 20)
    }

    final class Flag: Sendable {
        private let stored = Mutex<Bool>(false)
        func set(_ value: Bool) { stored.withLock { $0 = value } }
        var value: Bool { stored.withLock { $0 } }
    }
}
