import Foundation
import PhantomSpace

extension Kernel {
    /// `<phantom snapshot_period="…"/>` of the running config, if set.
    public var configuredSnapshotPeriod: String? {
        lock.lock(); defer { lock.unlock() }
        return config.snapshotPeriod
    }
}

extension Kernel {
    /// Reconfigures the running system (Genode: a new config ROM for init):
    /// new `start` nodes start, removed ones are torn down, a changed `binary`
    /// or `version` restarts a child, a changed inline `config` only updates
    /// its config ROM. A config that does not parse changes nothing; the error
    /// names line and column. Returns init's warnings about the new config.
    @discardableResult
    public func apply(configText text: String, source: String = "config") throws -> [String] {
        let model = try InitModel.parse(text, source: source)
        space.safepoints.register()
        lock.lock()
        config = model
        image.configText = text
        image.configGeneration += 1
        dirty = true
        lock.unlock()
        space.safepoints.unregister()
        for warning in model.warnings { say(warning) }
        reconcile(configApplied: true)
        wakeBackgroundThreads()
        return model.warnings
    }
}

extension Kernel {
    /// Reads a config as the kernel would, without booting anything: throws
    /// for text that does not parse (naming source, line and column), returns
    /// init's warnings. `phantom boot` checks its `--config` before it touches
    /// an image.
    public static func check(configText: String, source: String) throws -> [String] {
        try InitModel.parse(configText, source: source).warnings
    }

    /// `<phantom retain="N"/>` of a config: generations a new image keeps.
    public static func configuredRetention(configText: String, source: String) -> Int? {
        (try? InitModel.parse(configText, source: source))?.initConfig.phantom?.retain
    }
}
