import PhantomEngine
import PhantomSpace
import PhantomVM

/// Components whose binary is a Phantom class bundle: each is one Phantom VM
/// (its own heap in the shared object space, its root recorded in the
/// component's record), run as the component's engine thread
/// (`VMEngineThread`), in the same global cut as every WebAssembly component.
///
/// Boot runs once, when the component is first started: the boot class
/// (`.ru.dz.phantom.system.boot`, or the `PHANTOM_BOOT_CLASS` environment
/// variable of its start node) is instantiated and its method 8 runs. After a
/// restore the VM continues where the snapshot left its threads. What the
/// program prints (boot's print, the tty, uncaught exceptions) goes to the
/// component's LOG like a WebAssembly component's stdout; the VM's own notes
/// to its stderr. The RAM quota limits the bytes of its objects.
extension Kernel {
    static let phantomBootClassVariable = "PHANTOM_BOOT_CLASS"
    static let defaultPhantomBootClass = ".ru.dz.phantom.system.boot"

    /// WebAssembly binaries begin with "\0asm"; anything else is read as a class bundle.
    static func isWebAssembly(_ bytes: [UInt8]) -> Bool { bytes.starts(with: [0x00, 0x61, 0x73, 0x6D]) }

    /// Starts a Phantom VM component: parses the bundle (refusing a malformed
    /// one with the bundle's own error), makes a heap and boots it.
    func startPhantomVM(bytes: [UInt8], romName: String, spec: StartSpec, image: inout ComponentImage) throws -> Component {
        let bundle: ClassBundle
        do { bundle = try ClassBundle(parsing: bytes, source: romName) } catch {
            throw KernelError.start("\(romName) is neither a WebAssembly module (no \\0asm) nor a Phantom class bundle: \(error)")
        }
        let vm = try VirtualMachine(space: space, anchor: .object(0), classSource: ClassFiles(bundle),
                                    output: vmOutput(component: image.id, descriptor: 1),
                                    diagnostics: vmOutput(component: image.id, descriptor: 2, lineEnd: true))
        vm.heap.byteLimit = image.ramQuota   // boot allocates already
        let bootClass = spec.environment.lazy.compactMap { variable -> String? in
            let prefix = Self.phantomBootClassVariable + "="
            return variable.hasPrefix(prefix) ? String(variable.dropFirst(prefix.count)) : nil
        }.last ?? Self.defaultPhantomBootClass
        do { try vm.boot(className: bootClass) } catch {
            vm.destroyHeap()
            throw error
        }
        image.pvmHeap = vm.rootOffset
        return component(image, running: vm)
    }

    /// The VM of a stored component, reopened on its heap. Its classes are
    /// in the heap; the bundle, if its ROM is still there, serves classes not
    /// yet loaded.
    func restorePhantomVM(_ stored: ComponentImage, heap: UInt64) throws -> Component {
        let rom = stored.binaryROM ?? stored.binary
        let source: ClassSource? = (try? services.binary(named: rom)).flatMap { bytes in
            (try? ClassBundle(parsing: bytes, source: rom)).map { ClassFiles($0) }
        }
        let vm: VirtualMachine
        do {
            vm = try VirtualMachine(space: space, anchor: .object(heap), classSource: source,
                                    output: vmOutput(component: stored.id, descriptor: 1),
                                    diagnostics: vmOutput(component: stored.id, descriptor: 2, lineEnd: true))
        } catch {
            throw KernelError.restore("component \(stored.name): its Phantom VM heap at \(heap): \(error)")
        }
        return component(stored, running: vm)
    }

    /// The component whose engine thread is `vm`: its RAM quota as the
    /// heap's byte limit, its idle rounds as its event loop (heartbeats).
    private func component(_ image: ComponentImage, running vm: VirtualMachine) -> Component {
        vm.heap.byteLimit = image.ramQuota
        let liveness = Liveness()
        let thread = VMEngineThread(vm: vm, onIdle: { liveness.idle($0) })   // takes the heap's limit
        return Component(image: image, instance: nil, thread: thread, wasi: nil, liveness: liveness)
    }

    /// Frees an ended component's heap (its VM must not run any more). Lock held.
    func retirePhantomVM(_ component: Component) {
        guard let heap = component.image.pvmHeap else { return }
        if let thread = component.thread as? VMEngineThread {
            thread.vm.destroyHeap()
        } else if let vm = try? VirtualMachine(space: space, anchor: .object(heap)) {
            vm.destroyHeap()
        }
        component.image.pvmHeap = nil
    }

    private func vmOutput(component id: UInt64, descriptor: Int32, lineEnd: Bool = false) -> (String) -> Void {
        { [weak self] text in self?.componentOutput(id, descriptor: descriptor, bytes: Array((lineEnd ? text + "\n" : text).utf8)) }
    }
}
