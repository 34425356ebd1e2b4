/// The VM's own classes (Phantom's `pvm_internal_classes[]`): each has a root
/// slot (`root.h`), a name as class files and `summon_by_name` use it, and a
/// table of native methods indexed by method ordinal (ordinal k of an
/// internal class is its `sys k`).
///
/// Left out, by need: window, bitmap, ui.control and ui.font (graphics);
/// udp, tcp, net, http, connection and port (our network issue); io and
/// crypt, stringbuilder (not in `root.h`). docs/PVM.md lists them.
public enum InternalClass: UInt16, CaseIterable, Sendable {
    case void = 1
    case `class`, interface, code, int, long, float, double, string, array, page
    case thread, callFrame, integerStack, objectStack, exceptionStack
    case boot, tty, mutex, cond, sema, binary, closure, weakref, world, time, stat, directory

    public var name: String {
        switch self {
        case .void: ".internal.void"
        case .class: ".internal.class"
        case .interface: ".internal.interface"
        case .code: ".internal.code"
        case .int: ".internal.int"
        case .long: ".internal.long"
        case .float: ".internal.float"
        case .double: ".internal.double"
        case .string: ".internal.string"
        case .array: ".internal.container.array"
        case .page: ".internal.container.page"
        case .thread: ".internal.thread"
        case .callFrame: ".internal.call_frame"
        case .integerStack: ".internal.istack"
        case .objectStack: ".internal.ostack"
        case .exceptionStack: ".internal.estack"
        case .boot: ".internal.boot"
        case .tty: ".internal.io.tty"
        case .mutex: ".internal.mutex"
        case .cond: ".internal.cond"
        case .sema: ".internal.sema"
        case .binary: ".internal.binary"
        case .closure: ".internal.closure"
        case .weakref: ".internal.weakref"
        case .world: ".internal.world"
        case .time: ".internal.time"
        case .stat: ".internal.stat"
        case .directory: ".internal.directory"
        }
    }

    public var rootSlot: Int {
        switch self {
        case .void: RootLayout.nullClass
        case .class: RootLayout.classClass
        case .interface: RootLayout.interfaceClass
        case .code: RootLayout.codeClass
        case .int: RootLayout.intClass
        case .long: RootLayout.longClass
        case .float: RootLayout.floatClass
        case .double: RootLayout.doubleClass
        case .string: RootLayout.stringClass
        case .array: RootLayout.arrayClass
        case .page: RootLayout.pageClass
        case .thread: RootLayout.threadClass
        case .callFrame: RootLayout.callFrameClass
        case .integerStack: RootLayout.integerStackClass
        case .objectStack: RootLayout.objectStackClass
        case .exceptionStack: RootLayout.exceptionStackClass
        case .boot: RootLayout.bootClass
        case .tty: RootLayout.ttyClass
        case .mutex: RootLayout.mutexClass
        case .cond: RootLayout.condClass
        case .sema: RootLayout.semaClass
        case .binary: RootLayout.binaryClass
        case .closure: RootLayout.closureClass
        case .weakref: RootLayout.weakrefClass
        case .world: RootLayout.worldClass
        case .time: RootLayout.timeClass
        case .stat: RootLayout.statClass
        case .directory: RootLayout.directoryClass
        }
    }

    /// Other names a class is known by: `.internal.object` is the void class
    /// (Phantom's `pvm_lookup_internal_class`); the library's sources call
    /// the boot class `.internal.bootstrap`.
    var aliases: [String] {
        switch self {
        case .void: [".internal.object"]
        case .boot: [".internal.bootstrap"]
        default: []
        }
    }

    /// Phantom's `toString` of the class's objects where it is a fixed text.
    var fixedText: String? {
        switch self {
        case .class: "class"
        case .interface: "interface"
        case .code: "code"
        case .page: "page"
        case .thread: "thread"
        case .callFrame: "call_frame"
        case .integerStack: "istack"
        case .objectStack: "ostack"
        case .exceptionStack: "estack"
        case .boot: "bootstrap"
        case .tty: "tty window"
        case .mutex: "mutex"
        case .cond: ".internal.cond"
        case .sema: ".internal.sema"
        case .binary: "(binary)"
        case .closure: "(closure)"
        case .weakref: "(weakref)"
        case .world: "(world)"
        case .time: "time"
        case .stat: "stat"
        case .directory: "(directory)"
        default: nil
        }
    }
}
