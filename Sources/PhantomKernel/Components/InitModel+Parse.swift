extension InitModel {
    /// Parses config text in either syntax (XML when it starts with `<`, else HID).
    static func parse(_ text: String, source: String) throws -> InitModel {
        throw KernelError.config("\(source): the config parsers are not merged yet")
    }
}
