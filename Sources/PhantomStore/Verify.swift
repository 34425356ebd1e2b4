/// What `verify` found wrong, located by generation and block.
public struct Damage: Equatable, Sendable, CustomStringConvertible {
    public var generation: UInt64?
    public var block: UInt64
    public var what: String
    public var description: String {
        let prefix = generation.map { "generation \($0): " } ?? ""
        return "\(prefix)block \(block): \(what)"
    }
}

public struct VerifyReport: Sendable {
    public var damage: [Damage] = []
    public var generationsChecked: [UInt64] = []
    public var nodesChecked = 0
    public var pagesChecked = 0
    public var warnings: [String] = []
    public var isClean: Bool { damage.isEmpty }
    /// Generations with no damage at all.
    public var intactGenerations: [UInt64] {
        generationsChecked.filter { generation in !damage.contains { $0.generation == generation } }
    }
}

extension Store {
    /// Reads every block of every retained generation — each superblock slot,
    /// each map node, each data page — and checks it against its checksum.
    /// Reads only: damage is reported, never repaired in place.
    public func verify() -> VerifyReport {
        var report = VerifyReport()
        report.warnings = warnings
        for slot in 0..<Layout.superblockSlots {
            guard let bytes = try? device.readBlock(UInt64(slot)) else {
                report.damage.append(Damage(generation: nil, block: UInt64(slot), what: "superblock slot unreadable"))
                continue
            }
            if case let .damaged(reason) = Superblock.decode(bytes) {
                report.damage.append(Damage(generation: nil, block: UInt64(slot), what: "superblock slot \(slot): \(reason)"))
            }
        }
        // A block shared by several generations is read once; its verdict is
        // reported against every generation that reaches it.
        var verdicts: [UInt64: String?] = [:]
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Layout.blockSize, alignment: 4096)
        defer { buffer.deallocate() }

        func check(_ reference: BlockReference, level: Int, generation: UInt64, firstPage: UInt64) {
            let known = verdicts[reference.block]
            var problem: String?
            var node: MapNode?
            if let known, level < 0 {
                problem = known
            } else if reference.block >= device.blockCount {
                problem = "beyond the end of the image (\(device.blockCount) blocks): truncated"
            } else if level >= 0 {
                do {
                    node = try readNode(reference, level: level, from: device)
                    report.nodesChecked += 1
                } catch {
                    problem = "page-map node: \(error)"
                }
            } else {
                do {
                    try device.read(block: reference.block, into: buffer)
                    let found = CRC32C.checksum(UnsafeRawBufferPointer(buffer))
                    if found != reference.checksum {
                        problem = "page \(firstPage): checksum mismatch (expected \(hex(reference.checksum)), found \(hex(found)))"
                    }
                    report.pagesChecked += 1
                } catch {
                    problem = "page \(firstPage): \(error)"
                }
                verdicts[reference.block] = .some(problem)
            }
            if let problem {
                report.damage.append(Damage(generation: generation, block: reference.block, what: problem))
                return
            }
            guard let node else { return }
            let span = level == 0 ? 1 : PageTable.span(ofLevel: level - 1)
            for (index, child) in node.entries.enumerated() where !child.isNone {
                check(child, level: level - 1, generation: generation, firstPage: firstPage + UInt64(index) * span)
            }
        }

        for record in superblock.generations {
            report.generationsChecked.append(record.generation)
            guard !record.root.isNone else { continue }
            check(record.root, level: Int(record.depth) - 1, generation: record.generation, firstPage: 0)
        }
        return report
    }
}
