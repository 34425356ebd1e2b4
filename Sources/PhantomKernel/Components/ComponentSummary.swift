import Foundation
import PhantomSpace

/// What the tables say about one component, for commands that act on a
/// stored system before (or instead of) booting it.
public struct ComponentSummary: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case running
        case exited(code: UInt32)
        case trapped(message: String)
        case failed(reason: String)
    }
    public var name: String
    public var binary: String
    public var moduleChecksum: UInt32
    public var state: State

    init(_ image: ComponentImage) {
        name = image.name
        binary = image.binary
        moduleChecksum = image.moduleChecksum
        switch image.state {
        case .running: state = .running
        case let .exited(code): state = .exited(code: code)
        case let .trapped(message): state = .trapped(message: message)
        case let .failed(reason): state = .failed(reason: reason)
        }
    }
}

extension Kernel {
    /// The components an image's kernel tables name, or nil when it holds no
    /// system. Throws for tables that cannot be read (a damaged or forged image).
    public static func storedComponents(in space: ObjectSpace) throws -> [ComponentSummary]? {
        try KernelRecord.load(from: space)?.components.map(ComponentSummary.init)
    }

    /// The components now, in start order.
    public var componentSummaries: [ComponentSummary] {
        lock.lock(); defer { lock.unlock() }
        return image.components.map(ComponentSummary.init)
    }

    /// How the root init's child `name` ended; nil while it runs (or when
    /// there is none).
    public func endState(of name: String) -> ComponentSummary.State? {
        lock.lock(); defer { lock.unlock() }
        guard let stored = image.components.last(where: { $0.name == name && $0.parent == nil }) else { return nil }
        let summary = ComponentSummary(stored)
        return summary.state == .running ? nil : summary.state
    }

    /// Waits until no component runs any more, or `stop()` says so (checked
    /// at least every 50 ms).
    public func waitUntilAllEnded(stop: () -> Bool) {
        ends.lock()
        defer { ends.unlock() }
        while !stop() {
            lock.lock()
            let running = components.values.contains { $0.isRunning }
            lock.unlock()
            if !running { return }
            _ = ends.wait(until: Date(timeIntervalSinceNow: 0.05))
        }
    }
}
