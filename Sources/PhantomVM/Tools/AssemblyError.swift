/// Why a `.pas` text was refused: the file, the line and column (both from
/// 1; the column counts bytes) and what is wrong there, in the form
/// compilers use (`file:line:column: message`) so editors can jump to it.
public struct AssemblyError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public init(file: String, line: Int, column: Int, _ message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String { "\(file):\(line):\(column): \(message)" }
}
