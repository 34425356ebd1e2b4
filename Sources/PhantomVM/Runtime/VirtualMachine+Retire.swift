/// The end of a VM whose owner is done with it (a kernel component that
/// exited or was removed): its objects go back to the space, which other
/// components share.
extension VirtualMachine {
    /// Frees every thread's frames and stacks, every object on the list of
    /// all objects and the root. The VM must not be used afterwards.
    public func destroyHeap() {
        guard !heap.root.isNull else { return }
        for thread in threads {
            // Collected first: a frame's caller is read before it is freed.
            for frame in Array(heap.frames(of: thread)) { interpreter.discardFrame(frame) }
        }
        var current = ObjectRef(heap.rootWord(RootLayout.allObjects))
        while !current.isNull {
            let next = heap.next(of: current)
            heap.free(current)
            current = next
        }
        heap.free(heap.root)
        if case let .spaceRoot(slot) = anchor { heap.space.setRoot(slot, 0) }
        heap.root = .null
        heap.zeroCount = []
    }
}
