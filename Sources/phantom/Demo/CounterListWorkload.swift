import PhantomSpace

/// The demonstration workload that runs until the engines land: a record of
/// counters spread over 16 pages plus a doubly linked list of the last
/// `capacity` iteration numbers, all mutated on every step.
///
/// Its invariant ties many pages together — every counter equals the
/// iteration, the list holds exactly the last `length` iterations in order,
/// and `sum` is their sum — so a snapshot that mixed pages from two moments
/// (a torn cut) or lost a page would break it. After any restart the
/// workload checks it before continuing.
struct CounterListWorkload {
    static let rootSlot = 0
    static let counterPages = 16
    static let capacity: UInt64 = 1000

    // Offsets inside the 64-byte state record.
    private static let iteration: UInt64 = 0, sum: UInt64 = 8, head: UInt64 = 16, tail: UInt64 = 24
    private static let length: UInt64 = 32, counters: UInt64 = 40
    // Offsets inside a 32-byte list node.
    private static let value: UInt64 = 0, older: UInt64 = 8, newer: UInt64 = 16

    let space: ObjectSpace
    let state: UInt64

    /// Finds the workload's state in the space, or creates it in a fresh space.
    init(space: ObjectSpace) throws {
        self.space = space
        var state = space.root(Self.rootSlot)
        if state == 0 {
            state = try space.allocate(64)
            let counters = try space.allocate(Self.counterPages * 8)
            for index in 0..<Self.counterPages {
                space.store(try space.allocate(ObjectSpace.pageSize), at: counters + UInt64(index) * 8)
            }
            space.store(counters, at: state + Self.counters)
            space.setRoot(Self.rootSlot, state)
        }
        self.state = state
    }

    var isFresh: Bool { iteration == 0 }
    var iteration: UInt64 { space.load(UInt64.self, at: state + Self.iteration) }
    var length: UInt64 { space.load(UInt64.self, at: state + Self.length) }
    var sum: UInt64 { space.load(UInt64.self, at: state + Self.sum) }

    private func field(_ object: UInt64, _ offset: UInt64) -> UInt64 { space.load(UInt64.self, at: object + offset) }
    private func set(_ object: UInt64, _ offset: UInt64, _ value: UInt64) { space.store(value, at: object + offset) }

    private func counterBlock(_ index: Int) -> UInt64 {
        field(field(state, Self.counters), UInt64(index) * 8)
    }

    /// One iteration: push the next number, drop the oldest beyond capacity,
    /// advance every counter.
    func step() throws {
        let next = iteration + 1
        let node = try space.allocate(32)
        let head = field(state, Self.head)
        set(node, Self.value, next)
        set(node, Self.older, head)
        if head != 0 { set(head, Self.newer, node) } else { set(state, Self.tail, node) }
        set(state, Self.head, node)
        set(state, Self.length, length + 1)
        set(state, Self.sum, sum &+ next)
        if length > Self.capacity {
            let oldest = field(state, Self.tail)
            let newTail = field(oldest, Self.newer)
            set(newTail, Self.older, 0)
            set(state, Self.tail, newTail)
            set(state, Self.sum, sum &- field(oldest, Self.value))
            set(state, Self.length, length - 1)
            space.free(oldest, byteCount: 32)
        }
        for index in 0..<Self.counterPages {
            let block = counterBlock(index)
            set(block, 0, next)
            // A second word that moves through the page, so every page sees varied writes.
            set(block, 8 + (next % 500) * 8, next)
        }
        set(state, Self.iteration, next)
    }

    /// Checks the invariant; returns a description of the first violation.
    func checkInvariant() -> String? {
        let current = iteration
        for index in 0..<Self.counterPages where field(counterBlock(index), 0) != current {
            return "counter \(index) is \(field(counterBlock(index), 0)), iteration is \(current)"
        }
        let expectedLength = min(current, Self.capacity)
        guard length == expectedLength else { return "list length \(length), expected \(expectedLength)" }
        var node = field(state, Self.head)
        var expected = current
        var total: UInt64 = 0
        var newer: UInt64 = 0
        var count: UInt64 = 0
        while node != 0 {
            let value = field(node, Self.value)
            guard value == expected else { return "list node \(count) holds \(value), expected \(expected)" }
            guard field(node, Self.newer) == newer else { return "list node \(count) has a broken back link" }
            total &+= value
            newer = node
            node = field(node, Self.older)
            expected &-= 1
            count += 1
            guard count <= expectedLength else { return "list is longer than its length field \(expectedLength)" }
        }
        guard count == expectedLength else { return "list has \(count) nodes, length field says \(expectedLength)" }
        guard field(state, Self.tail) == newer else { return "tail does not point at the oldest node" }
        guard total == sum else { return "sum field \(sum) differs from the list's sum \(total)" }
        return nil
    }
}
