// swift_echo_server.swift - test-only Embedded Swift twin of
// c/kernel/echo_server.c, to exercise the server half of PhantomSession.swift
// (Service.announce/next/reply, the 24-byte event, TOO_BIG on next).
// Built by mock.sh into a scratch dir (not a committed fixture).
//
// Announces "Echo"; remembers each session's label (up to 8 sessions, 120
// bytes each); answers call I of a session with status I and
// "<label>: <payload>". Logs "echo: open <label>" / "echo: close <label>".
// Starts with a 16-byte event buffer and falls back to a 1024-byte one when
// next reports .tooBig, so the TOO_BIG path is taken for every label.

typealias Bytes128 = (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                      UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
let zero128: Bytes128 = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
var labels: (Bytes128, Bytes128, Bytes128, Bytes128, Bytes128, Bytes128, Bytes128, Bytes128) =
    (zero128, zero128, zero128, zero128, zero128, zero128, zero128, zero128)
var labelLengths: (Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0)
var sessionIds: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0, 0, 0, 0, 0)
var callCounts: (Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32) = (0, 0, 0, 0, 0, 0, 0, 0)
var small: (UInt64, UInt64) = (0, 0)
var big: (Bytes128, Bytes128, Bytes128, Bytes128, Bytes128, Bytes128, Bytes128, Bytes128) =
    (zero128, zero128, zero128, zero128, zero128, zero128, zero128, zero128)
var out: (Bytes128, Bytes128, Bytes128, Bytes128, Bytes128, Bytes128, Bytes128, Bytes128) =
    (zero128, zero128, zero128, zero128, zero128, zero128, zero128, zero128)

func fail(_ what: StaticString, _ error: PhantomError) -> Never {
    put("echo: "); put(what); put(" failed: "); put(error.name); endLine()
    exit(1)
}

func logLabel(_ what: StaticString, _ slot: Int) {
    put("echo: "); put(what); putByte(32)
    withUnsafeBytes(of: &labels) { all in
        let n = withUnsafeBytes(of: &labelLengths) { $0.load(fromByteOffset: slot * 4, as: Int.self) }
        for i in 0..<n { putByte(all[slot * 128 + i]) }
    }
    endLine()
}

func slot(of session: UInt32) -> Int {
    return withUnsafeBytes(of: &sessionIds) { ids in
        for i in 0..<8 where ids.load(fromByteOffset: i * 4, as: UInt32.self) == session { return i }
        return -1
    }
}

@_cdecl("_start")
public func start() {
    do throws(PhantomError) { try Service.announce("Echo") } catch { fail("announce", error) }
    while true {
        withUnsafeMutableBytes(of: &small) { smallBuffer in
            withUnsafeMutableBytes(of: &big) { bigBuffer in
                var buffer = smallBuffer
                var event: Request
                do throws(PhantomError) {
                    event = try Service.next(into: smallBuffer)
                } catch {
                    guard case .tooBig(let needed) = error, needed <= 1024 else { fail("next", error) }
                    buffer = bigBuffer
                    do throws(PhantomError) { event = try Service.next(into: bigBuffer) } catch { fail("next (big)", error) }
                }
                switch event.kind {
                case .open:
                    let free = slot(of: 0)
                    if free < 0 || event.length > 128 {
                        do throws(PhantomError) { try Service.reply(to: event, status: -1) } catch { fail("deny", error) }
                        return
                    }
                    withUnsafeMutableBytes(of: &labels) { all in
                        for i in 0..<event.length { all[free * 128 + i] = buffer[i] }
                    }
                    withUnsafeMutableBytes(of: &labelLengths) { $0.storeBytes(of: event.length, toByteOffset: free * 4, as: Int.self) }
                    withUnsafeMutableBytes(of: &sessionIds) { $0.storeBytes(of: event.session, toByteOffset: free * 4, as: UInt32.self) }
                    withUnsafeMutableBytes(of: &callCounts) { $0.storeBytes(of: 0, toByteOffset: free * 4, as: Int32.self) }
                    logLabel("open", free)
                    do throws(PhantomError) { try Service.reply(to: event) } catch { fail("accept", error) }
                case .call:
                    let s = slot(of: event.session)
                    var status: Int32 = 0
                    var n = 0
                    withUnsafeMutableBytes(of: &out) { o in
                        if s >= 0 {
                            status = withUnsafeMutableBytes(of: &callCounts) { c in
                                let v = c.load(fromByteOffset: s * 4, as: Int32.self) + 1
                                c.storeBytes(of: v, toByteOffset: s * 4, as: Int32.self)
                                return v
                            }
                            let len = withUnsafeBytes(of: &labelLengths) { $0.load(fromByteOffset: s * 4, as: Int.self) }
                            withUnsafeBytes(of: &labels) { all in
                                for i in 0..<len { o[n] = all[s * 128 + i]; n += 1 }
                            }
                        }
                        o[n] = 58; o[n + 1] = 32; n += 2
                        for i in 0..<event.length where n < o.count { o[n] = buffer[i]; n += 1 }
                        do throws(PhantomError) {
                            try Service.reply(to: event, status: status,
                                              data: UnsafeRawBufferPointer(rebasing: o[0..<n]))
                        } catch { fail("reply", error) }
                    }
                case .close:
                    let s = slot(of: event.session)
                    if s >= 0 {
                        logLabel("close", s)
                        withUnsafeMutableBytes(of: &sessionIds) { $0.storeBytes(of: 0, toByteOffset: s * 4, as: UInt32.self) }
                    }
                }
            }
        }
    }
}
