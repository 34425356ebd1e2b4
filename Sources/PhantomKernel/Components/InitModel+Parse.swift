extension InitModel {
    /// Parses config text in either syntax (XML when it starts with `<`, else
    /// HID, as Genode decides) and reads it as an init config.
    static func parse(_ text: String, source: String) throws -> InitModel {
        let document: ConfigDocument
        do {
            document = try ConfigParser.parse(text, source: source)
        } catch {
            throw KernelError.config("\(error)")
        }
        var model = try InitModel(root: document.root, syntax: document.syntax, source: source)
        model.warnings = document.warnings + model.warnings
        return model
    }
}
