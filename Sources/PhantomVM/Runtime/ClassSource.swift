/// Where classes that are not loaded yet come from: a directory of `.pc`
/// files, a class bundle, or (in tests) definitions made in memory. Only
/// consulted for a class the space does not hold yet: once loaded, a class
/// lives in the space and outlives its source.
public protocol ClassSource {
    /// The class named `name` (with a leading dot), nil if the source has none.
    func definition(of name: String) throws -> ClassDefinition?
}

/// Classes given as definitions.
public struct DefinitionClassSource: ClassSource {
    public var definitions: [String: ClassDefinition]
    public init(_ definitions: [ClassDefinition]) {
        self.definitions = Dictionary(definitions.map { (ClassTable.normalized($0.name), $0) }, uniquingKeysWith: { $1 })
    }
    public func definition(of name: String) throws -> ClassDefinition? { definitions[ClassTable.normalized(name)] }
}
